"""catalog version: the number the page caches compare (merchant/catalog_cache.py)

Revision ID: c7d1e5a9b3f2
Revises: 3c5e8a1f0b7d
Create Date: 2026-12-02 04:50:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'c7d1e5a9b3f2'
down_revision = '3c5e8a1f0b7d'
branch_labels = None
depends_on = None


def upgrade():
    table = op.create_table('catalog_version',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('version', sa.BigInteger(), nullable=False),
    sa.PrimaryKeyConstraint('id')
    )
    op.bulk_insert(table, [{'id': 1, 'version': 1}])


def downgrade():
    op.drop_table('catalog_version')
