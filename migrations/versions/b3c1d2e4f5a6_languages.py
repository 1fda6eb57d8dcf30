"""languages: the shop's default language, the language each order was placed in

Revision ID: b3c1d2e4f5a6
Revises: c7d1e5a9b3f2
Create Date: 2026-12-02 04:40:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'b3c1d2e4f5a6'
down_revision = 'c7d1e5a9b3f2'
branch_labels = None
depends_on = None


def upgrade():
    # Releases before 0.16.0 ran this outside a transaction, and on a SQLite shop with orders it
    # stopped after adding default_locale (env.py's recover_interrupted_batches removes what
    # else it left): a shop that went through that has the column already.
    columns = {column['name'] for column in sa.inspect(op.get_bind()).get_columns('shop_settings')}
    if 'default_locale' not in columns:
        with op.batch_alter_table('shop_settings', schema=None) as batch_op:
            batch_op.add_column(sa.Column('default_locale', sa.String(length=8), nullable=False,
                                          server_default=''))
    with op.batch_alter_table('shop_settings', schema=None) as batch_op:
        batch_op.alter_column('default_locale', server_default=None)
    # Orders placed before this revision were placed in the English-only shop.
    with op.batch_alter_table('orders', schema=None) as batch_op:
        batch_op.add_column(sa.Column('locale', sa.String(length=8), nullable=False,
                                      server_default='en'))
    with op.batch_alter_table('orders', schema=None) as batch_op:
        batch_op.alter_column('locale', server_default=None)


def downgrade():
    with op.batch_alter_table('orders', schema=None) as batch_op:
        batch_op.drop_column('locale')
    with op.batch_alter_table('shop_settings', schema=None) as batch_op:
        batch_op.drop_column('default_locale')
