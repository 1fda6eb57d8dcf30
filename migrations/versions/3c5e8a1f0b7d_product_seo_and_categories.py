"""products: category, featured, search-result title and description, guide, FAQ

Revision ID: 3c5e8a1f0b7d
Revises: d0748263f7ad
Create Date: 2026-12-02 04:30:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '3c5e8a1f0b7d'
down_revision = 'd0748263f7ad'
branch_labels = None
depends_on = None


# Plain ADD/DROP COLUMN, no batch copy-and-swap: SQLite cannot drop a table that orders and
# packages point at while foreign keys are on, and these need no rebuild. The server defaults
# fill the existing rows (the model sets the same values on insert).
COLUMNS = [
    sa.Column('category', sa.String(length=16), nullable=False, server_default='games'),
    sa.Column('featured', sa.Boolean(), nullable=False, server_default=sa.false()),
    sa.Column('meta_title', sa.String(length=120), nullable=False, server_default=''),
    sa.Column('meta_description', sa.String(length=300), nullable=False, server_default=''),
    sa.Column('guide', sa.Text(), nullable=False, server_default=''),
    sa.Column('faq', sa.JSON(), nullable=False, server_default='[]'),
]


def upgrade():
    for column in COLUMNS:
        op.add_column('products', column)


def downgrade():
    for column in reversed(COLUMNS):
        op.execute(f'ALTER TABLE products DROP COLUMN {column.name}')
