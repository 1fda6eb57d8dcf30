"""catalog guards and archive: prices set by hand, promo codes allowed below cost, import
previews, archived products, packages, methods and codes, order events as codes with parameters

Revision ID: 7a4c2e9d1b08
Revises: 3df281cdc0ee
Create Date: 2026-12-06 19:51:04.504047

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '7a4c2e9d1b08'
down_revision = '3df281cdc0ee'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('import_jobs', schema=None) as batch_op:
        batch_op.add_column(sa.Column('preview', sa.JSON(), nullable=True))
        batch_op.add_column(sa.Column('list_fetched_at', sa.DateTime(), nullable=True))

    with op.batch_alter_table('order_events', schema=None) as batch_op:
        batch_op.add_column(sa.Column('code', sa.String(length=40), nullable=True))
        batch_op.add_column(sa.Column('params', sa.JSON(), nullable=True))

    with op.batch_alter_table('packages', schema=None) as batch_op:
        batch_op.add_column(sa.Column('price_by_hand', sa.Boolean(), server_default=sa.false(), nullable=False))
        batch_op.add_column(sa.Column('archived_at', sa.DateTime(), nullable=True))

    with op.batch_alter_table('payment_methods', schema=None) as batch_op:
        batch_op.add_column(sa.Column('archived_at', sa.DateTime(), nullable=True))

    with op.batch_alter_table('products', schema=None) as batch_op:
        batch_op.add_column(sa.Column('archived_at', sa.DateTime(), nullable=True))

    with op.batch_alter_table('promos', schema=None) as batch_op:
        batch_op.add_column(sa.Column('allow_below_cost', sa.Boolean(), server_default=sa.false(), nullable=False))
        batch_op.add_column(sa.Column('archived_at', sa.DateTime(), nullable=True))


def downgrade():
    with op.batch_alter_table('promos', schema=None) as batch_op:
        batch_op.drop_column('archived_at')
        batch_op.drop_column('allow_below_cost')

    with op.batch_alter_table('products', schema=None) as batch_op:
        batch_op.drop_column('archived_at')

    with op.batch_alter_table('payment_methods', schema=None) as batch_op:
        batch_op.drop_column('archived_at')

    with op.batch_alter_table('packages', schema=None) as batch_op:
        batch_op.drop_column('archived_at')
        batch_op.drop_column('price_by_hand')

    with op.batch_alter_table('order_events', schema=None) as batch_op:
        batch_op.drop_column('params')
        batch_op.drop_column('code')

    with op.batch_alter_table('import_jobs', schema=None) as batch_op:
        batch_op.drop_column('list_fetched_at')
        batch_op.drop_column('preview')
