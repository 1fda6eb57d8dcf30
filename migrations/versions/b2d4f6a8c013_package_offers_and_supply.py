"""supply: many offers per package (supplier, SKU, cost) with the rule that picks one, the
availability of the suppliers' products as the last price-list sync saw it, and on orders the
offers they may be delivered by, what the supplier really charged and when their ref_id was
first sent, and whether a price import merges into other suppliers' packages. Every package's
supplier and fallback become its first and second offers; the old
columns stay, kept equal to the first two offers.

Revision ID: b2d4f6a8c013
Revises: d4f6b8c0e135
Create Date: 2026-12-07 00:12:47.754021

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'b2d4f6a8c013'
down_revision = 'd4f6b8c0e135'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('supplier_products',
    sa.Column('supplier', sa.String(length=32), nullable=False),
    sa.Column('sku', sa.String(length=64), nullable=False),
    sa.Column('listed', sa.Boolean(), server_default=sa.true(), nullable=False),
    sa.Column('buyer_product_status', sa.Boolean(), server_default=sa.true(), nullable=False),
    sa.Column('seller_product_status', sa.Boolean(), server_default=sa.true(), nullable=False),
    sa.Column('unlimited_stock', sa.Boolean(), server_default=sa.true(), nullable=False),
    sa.Column('stock', sa.Integer(), server_default='0', nullable=False),
    sa.Column('start_cut_off', sa.String(length=8), server_default='', nullable=False),
    sa.Column('end_cut_off', sa.String(length=8), server_default='', nullable=False),
    sa.Column('price', sa.Integer(), nullable=True),
    sa.Column('synced_at', sa.DateTime(), nullable=False),
    sa.PrimaryKeyConstraint('supplier', 'sku')
    )
    offers = op.create_table('package_offers',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('package_id', sa.Integer(), nullable=False),
    sa.Column('position', sa.Integer(), server_default='0', nullable=False),
    sa.Column('supplier', sa.String(length=32), nullable=False),
    sa.Column('sku', sa.String(length=64), server_default='', nullable=False),
    sa.Column('cost', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['package_id'], ['packages.id'], name='fk_package_offers_package_id', ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('package_offers', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_package_offers_package_id'), ['package_id'], unique=False)

    with op.batch_alter_table('orders', schema=None) as batch_op:
        batch_op.add_column(sa.Column('supply_plan', sa.JSON(), nullable=True))
        batch_op.add_column(sa.Column('supplier_paid', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('supplier_sent_at', sa.DateTime(), nullable=True))

    with op.batch_alter_table('packages', schema=None) as batch_op:
        batch_op.add_column(sa.Column('offer_rule', sa.String(length=16), server_default='', nullable=False))
        batch_op.add_column(sa.Column('unavailable_reason', sa.String(length=16), nullable=True))
        batch_op.add_column(sa.Column('unavailable_until', sa.String(length=24), nullable=True))

    with op.batch_alter_table('shop_settings', schema=None) as batch_op:
        batch_op.add_column(sa.Column('offer_rule', sa.String(length=16), server_default='', nullable=False))
        batch_op.add_column(sa.Column('cost_tolerance', sa.Integer(), server_default='0', nullable=False))

    with op.batch_alter_table('supplier_balances', schema=None) as batch_op:
        batch_op.add_column(sa.Column('short', sa.Boolean(), server_default=sa.false(), nullable=False))

    with op.batch_alter_table('import_jobs', schema=None) as batch_op:
        batch_op.add_column(sa.Column('merge', sa.Boolean(), server_default=sa.false(), nullable=False))

    # Every package's supplier is its first offer, its fallback (if any) the second.
    packages = sa.table('packages', sa.column('id', sa.Integer), sa.column('supplier', sa.String),
                        sa.column('supplier_sku', sa.String), sa.column('supplier_cost', sa.Integer),
                        sa.column('fallback_supplier', sa.String),
                        sa.column('fallback_sku', sa.String),
                        sa.column('fallback_cost', sa.Integer))
    op.execute(offers.insert().from_select(
        ['package_id', 'position', 'supplier', 'sku', 'cost'],
        sa.select(packages.c.id, sa.literal(0), packages.c.supplier,
                  sa.func.coalesce(packages.c.supplier_sku, ''), packages.c.supplier_cost)))
    op.execute(offers.insert().from_select(
        ['package_id', 'position', 'supplier', 'sku', 'cost'],
        sa.select(packages.c.id, sa.literal(1), packages.c.fallback_supplier,
                  sa.func.coalesce(packages.c.fallback_sku, ''), packages.c.fallback_cost)
        .where(packages.c.fallback_supplier.is_not(None), packages.c.fallback_supplier != '')))


def downgrade():
    with op.batch_alter_table('import_jobs', schema=None) as batch_op:
        batch_op.drop_column('merge')

    with op.batch_alter_table('supplier_balances', schema=None) as batch_op:
        batch_op.drop_column('short')

    with op.batch_alter_table('shop_settings', schema=None) as batch_op:
        batch_op.drop_column('cost_tolerance')
        batch_op.drop_column('offer_rule')

    with op.batch_alter_table('packages', schema=None) as batch_op:
        batch_op.drop_column('unavailable_until')
        batch_op.drop_column('unavailable_reason')
        batch_op.drop_column('offer_rule')

    with op.batch_alter_table('orders', schema=None) as batch_op:
        batch_op.drop_column('supplier_sent_at')
        batch_op.drop_column('supplier_paid')
        batch_op.drop_column('supply_plan')

    with op.batch_alter_table('package_offers', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_package_offers_package_id'))

    op.drop_table('package_offers')
    op.drop_table('supplier_products')
