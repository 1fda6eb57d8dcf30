"""reviews, claims and the shop's identity: buyers' reviews of delivered orders (one per order),
their problem reports and the shop's answers (one open per order), and in the settings the
privacy policy, the registered business name, NIB and PSE registration, and the days after
delivery a problem can be reported in (empty: 7)

Revision ID: b8d0f2a4c579
Revises: a7c9e1f3b468
Create Date: 2026-12-07 00:15:22.348957

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'b8d0f2a4c579'
down_revision = 'a7c9e1f3b468'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('claims',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('order_id', sa.Integer(), nullable=False),
    sa.Column('open_order_id', sa.Integer(), nullable=True),
    sa.Column('kind', sa.String(length=24), nullable=False),
    sa.Column('message', sa.Text(), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('answer', sa.Text(), nullable=True),
    sa.Column('answered_by', sa.String(length=254), nullable=True),
    sa.Column('answered_at', sa.DateTime(), nullable=True),
    sa.ForeignKeyConstraint(['order_id'], ['orders.id'], name='fk_claims_order_id'),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('open_order_id')
    )
    with op.batch_alter_table('claims', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_claims_created_at'), ['created_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_claims_order_id'), ['order_id'], unique=False)

    op.create_table('reviews',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('order_id', sa.Integer(), nullable=False),
    sa.Column('product_id', sa.Integer(), nullable=False),
    sa.Column('rating', sa.Integer(), nullable=False),
    sa.Column('comment', sa.String(length=500), nullable=False),
    sa.Column('author', sa.String(length=40), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('hidden_at', sa.DateTime(), nullable=True),
    sa.Column('hidden_reason', sa.String(length=300), nullable=True),
    sa.CheckConstraint('rating BETWEEN 1 AND 5', name='ck_reviews_rating'),
    sa.ForeignKeyConstraint(['order_id'], ['orders.id'], name='fk_reviews_order_id'),
    sa.ForeignKeyConstraint(['product_id'], ['products.id'], name='fk_reviews_product_id'),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('order_id')
    )
    with op.batch_alter_table('reviews', schema=None) as batch_op:
        batch_op.create_index('ix_reviews_product_hidden', ['product_id', 'hidden_at', 'id'], unique=False)

    with op.batch_alter_table('shop_settings', schema=None) as batch_op:
        batch_op.add_column(sa.Column('privacy_policy', sa.Text(), server_default='', nullable=False))
        batch_op.add_column(sa.Column('legal_name', sa.String(length=120), server_default='', nullable=False))
        batch_op.add_column(sa.Column('nib', sa.String(length=20), server_default='', nullable=False))
        batch_op.add_column(sa.Column('pse_number', sa.String(length=60), server_default='', nullable=False))
        batch_op.add_column(sa.Column('claim_window_days', sa.Integer(), nullable=True))



def downgrade():
    with op.batch_alter_table('shop_settings', schema=None) as batch_op:
        batch_op.drop_column('claim_window_days')
        batch_op.drop_column('pse_number')
        batch_op.drop_column('nib')
        batch_op.drop_column('legal_name')
        batch_op.drop_column('privacy_policy')

    with op.batch_alter_table('reviews', schema=None) as batch_op:
        batch_op.drop_index('ix_reviews_product_hidden')

    op.drop_table('reviews')
    with op.batch_alter_table('claims', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_claims_order_id'))
        batch_op.drop_index(batch_op.f('ix_claims_created_at'))

    op.drop_table('claims')
