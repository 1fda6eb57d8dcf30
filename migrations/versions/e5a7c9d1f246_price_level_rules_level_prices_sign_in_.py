"""Price levels' rules (markup over cost or discount off retail, rounding, spend threshold),
a level's hand-set prices per package, one-time sign-in codes (hashed) and customers' saved
game accounts.

Revision ID: e5a7c9d1f246
Revises: a1c5d7e9f203
Create Date: 2026-12-07 00:12:28.592265

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'e5a7c9d1f246'
down_revision = 'a1c5d7e9f203'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('sign_in_codes',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('contact', sa.String(length=254), nullable=False),
    sa.Column('code_hash', sa.String(length=64), nullable=False),
    sa.Column('tries', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('expires_at', sa.DateTime(), nullable=False),
    sa.Column('used_at', sa.DateTime(), nullable=True),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('sign_in_codes', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_sign_in_codes_contact'), ['contact'], unique=False)

    op.create_table('level_prices',
    sa.Column('level_id', sa.Integer(), nullable=False),
    sa.Column('package_id', sa.Integer(), nullable=False),
    sa.Column('price', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['level_id'], ['price_levels.id'], ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['package_id'], ['packages.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('level_id', 'package_id')
    )
    op.create_table('saved_accounts',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('customer_id', sa.Integer(), nullable=False),
    sa.Column('product_id', sa.Integer(), nullable=False),
    sa.Column('account', sa.JSON(), nullable=False),
    sa.Column('account_key', sa.String(length=64), nullable=False),
    sa.Column('nickname', sa.String(length=120), nullable=True),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['customer_id'], ['customers.id'], ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['product_id'], ['products.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('customer_id', 'product_id', 'account_key')
    )
    with op.batch_alter_table('saved_accounts', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_saved_accounts_customer_id'), ['customer_id'], unique=False)

    with op.batch_alter_table('price_levels', schema=None) as batch_op:
        batch_op.add_column(sa.Column('kind', sa.String(length=10), server_default='discount', nullable=False))
        batch_op.add_column(sa.Column('percent_bp', sa.Integer(), server_default='0', nullable=False))
        batch_op.add_column(sa.Column('flat', sa.Integer(), server_default='0', nullable=False))
        batch_op.add_column(sa.Column('round_to', sa.Integer(), server_default='100', nullable=False))
        batch_op.add_column(sa.Column('allow_below_cost', sa.Boolean(), server_default=sa.false(), nullable=False))
        batch_op.add_column(sa.Column('spend_threshold', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('spend_days', sa.Integer(), server_default='30', nullable=False))
        batch_op.add_column(sa.Column('currency', sa.String(length=3), server_default='IDR', nullable=False))



def downgrade():
    with op.batch_alter_table('price_levels', schema=None) as batch_op:
        batch_op.drop_column('currency')
        batch_op.drop_column('spend_days')
        batch_op.drop_column('spend_threshold')
        batch_op.drop_column('allow_below_cost')
        batch_op.drop_column('round_to')
        batch_op.drop_column('flat')
        batch_op.drop_column('percent_bp')
        batch_op.drop_column('kind')

    with op.batch_alter_table('saved_accounts', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_saved_accounts_customer_id'))

    op.drop_table('saved_accounts')
    op.drop_table('level_prices')
    with op.batch_alter_table('sign_in_codes', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_sign_in_codes_contact'))

    op.drop_table('sign_in_codes')
