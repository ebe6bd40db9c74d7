"""inbox claims: several dispatchers share the inbox without starting a row twice

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-07 20:20:00
"""
from alembic import op
import sqlalchemy as sa


revision = '0014'
down_revision = '0013'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column('inbox', sa.Column('claimed_by', sa.String(length=64), nullable=True))
    op.add_column('inbox', sa.Column('claimed_until', sa.DateTime(timezone=True), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('inbox') as batch:
        batch.drop_column('claimed_until')
        batch.drop_column('claimed_by')
