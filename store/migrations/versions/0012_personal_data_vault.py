"""the personal-data vault

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-07 15:00:00
"""
from alembic import op
import sqlalchemy as sa


revision = '0012'
down_revision = '0011'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'personal_data',
        sa.Column('ref', sa.String(length=40), nullable=False),
        sa.Column('customer_id', sa.String(length=200), nullable=False),
        sa.Column('order_id', sa.String(length=200), nullable=False),
        sa.Column('sealed', sa.Text(), nullable=False),
        sa.Column('erased_at', sa.DateTime(timezone=True), nullable=True),
        sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('(CURRENT_TIMESTAMP)'),
                  nullable=False),
        sa.PrimaryKeyConstraint('ref'),
    )
    op.create_index('ix_personal_data_customer_id', 'personal_data', ['customer_id'])
    op.create_index('ix_personal_data_order_id', 'personal_data', ['order_id'])


def downgrade() -> None:
    op.drop_index('ix_personal_data_order_id', table_name='personal_data')
    op.drop_index('ix_personal_data_customer_id', table_name='personal_data')
    op.drop_table('personal_data')
