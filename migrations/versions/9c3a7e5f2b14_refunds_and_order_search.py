"""refunds and order search: whether staff may refund, how a manual refund was paid back, and on
PostgreSQL trigram indexes for finding orders by part of an account, nickname, email or number

Revision ID: 9c3a7e5f2b14
Revises: 2d8b6f3e9a51
Create Date: 2026-12-06 20:05:24.996404

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '9c3a7e5f2b14'
down_revision = '2d8b6f3e9a51'
branch_labels = None
depends_on = None


SEARCHED = ("account_id", "nickname", "email", "whatsapp")


def upgrade():
    with op.batch_alter_table('orders', schema=None) as batch_op:
        batch_op.add_column(sa.Column('refund_note', sa.Text(), nullable=True))
    with op.batch_alter_table('shop_settings', schema=None) as batch_op:
        batch_op.add_column(sa.Column('staff_may_refund', sa.Boolean(), nullable=False,
                                      server_default=sa.false()))
    if op.get_bind().dialect.name == 'postgresql':
        # pg_trgm is a trusted extension: the database's owner may create it.
        op.execute('CREATE EXTENSION IF NOT EXISTS pg_trgm')
        for column in SEARCHED:
            op.create_index(f'ix_orders_{column}_trgm', 'orders', [column],
                            postgresql_using='gin', postgresql_ops={column: 'gin_trgm_ops'})


def downgrade():
    if op.get_bind().dialect.name == 'postgresql':
        for column in SEARCHED:
            op.drop_index(f'ix_orders_{column}_trgm', table_name='orders')
    with op.batch_alter_table('shop_settings', schema=None) as batch_op:
        batch_op.drop_column('staff_may_refund')
    with op.batch_alter_table('orders', schema=None) as batch_op:
        batch_op.drop_column('refund_note')
