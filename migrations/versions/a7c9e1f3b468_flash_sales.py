"""flash sales: packages at a sale price between two times while a stock lasts (flash_sales,
flash_sale_items), the units each contact holds (flash_sale_contact_uses), and which sale
item priced an order and whether it still holds its unit (orders.flash_item_id, flash_counted)

Revision ID: a7c9e1f3b468
Revises: b2d4f6a8c013
Create Date: 2026-12-07 00:12:48.883098

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'a7c9e1f3b468'
down_revision = 'b2d4f6a8c013'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('flash_sales',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=80), nullable=False),
    sa.Column('starts_at', sa.DateTime(), nullable=False),
    sa.Column('ends_at', sa.DateTime(), nullable=False),
    sa.Column('max_per_contact', sa.Integer(), nullable=True),
    sa.Column('with_promo', sa.Boolean(), server_default=sa.false(), nullable=False),
    sa.Column('allow_below_cost', sa.Boolean(), server_default=sa.false(), nullable=False),
    sa.Column('active', sa.Boolean(), server_default=sa.true(), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.PrimaryKeyConstraint('id')
    )
    op.create_table('flash_sale_contact_uses',
    sa.Column('sale_id', sa.Integer(), nullable=False),
    sa.Column('contact', sa.String(length=254), nullable=False),
    sa.Column('uses', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['sale_id'], ['flash_sales.id'], ),
    sa.PrimaryKeyConstraint('sale_id', 'contact')
    )
    op.create_table('flash_sale_items',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('sale_id', sa.Integer(), nullable=False),
    sa.Column('package_id', sa.Integer(), nullable=False),
    sa.Column('sale_price', sa.Integer(), nullable=False),
    sa.Column('stock', sa.Integer(), nullable=False),
    sa.Column('sold', sa.Integer(), server_default='0', nullable=False),
    sa.ForeignKeyConstraint(['package_id'], ['packages.id'], ),
    sa.ForeignKeyConstraint(['sale_id'], ['flash_sales.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('sale_id', 'package_id', name='uq_flash_sale_items_sale_package')
    )
    with op.batch_alter_table('flash_sale_items', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_flash_sale_items_package_id'), ['package_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_flash_sale_items_sale_id'), ['sale_id'], unique=False)

    with op.batch_alter_table('orders', schema=None) as batch_op:
        batch_op.add_column(sa.Column('flash_item_id', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('flash_counted', sa.Boolean(), server_default=sa.false(), nullable=False))
        batch_op.create_index(batch_op.f('ix_orders_flash_item_id'), ['flash_item_id'], unique=False)
        batch_op.create_foreign_key('fk_orders_flash_item_id', 'flash_sale_items', ['flash_item_id'], ['id'])



def downgrade():
    with op.batch_alter_table('orders', schema=None) as batch_op:
        batch_op.drop_constraint('fk_orders_flash_item_id', type_='foreignkey')
        batch_op.drop_index(batch_op.f('ix_orders_flash_item_id'))
        batch_op.drop_column('flash_counted')
        batch_op.drop_column('flash_item_id')

    with op.batch_alter_table('flash_sale_items', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_flash_sale_items_sale_id'))
        batch_op.drop_index(batch_op.f('ix_flash_sale_items_package_id'))

    op.drop_table('flash_sale_items')
    op.drop_table('flash_sale_contact_uses')
    op.drop_table('flash_sales')
