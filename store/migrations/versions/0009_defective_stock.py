"""defective stock: returned units graded CC, held at the warehouse for refurbishing

Revision ID: 0009
Revises: 0008
Create Date: 2026-11-28 12:10:00
"""
from alembic import op
import sqlalchemy as sa


revision = '0009'
down_revision = '0008'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('stock', schema=None) as batch_op:
        batch_op.add_column(sa.Column('defective', sa.Integer(), server_default='0', nullable=False))

    with op.batch_alter_table('stock_movements', schema=None) as batch_op:
        batch_op.add_column(sa.Column('defective_delta', sa.Integer(), server_default='0', nullable=False))


def downgrade() -> None:
    with op.batch_alter_table('stock_movements', schema=None) as batch_op:
        batch_op.drop_column('defective_delta')

    with op.batch_alter_table('stock', schema=None) as batch_op:
        batch_op.drop_column('defective')
