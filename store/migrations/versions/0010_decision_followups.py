"""decision follow-ups: what happened after a decision, kept apart from it

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-02 06:20:00
"""
from alembic import op
import sqlalchemy as sa


revision = '0010'
down_revision = '0009'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'decision_followups',
        sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
        sa.Column('decision_key', sa.String(length=300), nullable=False),
        sa.Column('seq', sa.Integer(), nullable=False),
        sa.Column('order_id', sa.String(length=200), nullable=False),
        sa.Column('kind', sa.String(length=16), nullable=False),
        sa.Column('detail', sa.JSON(), nullable=False),
        sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('(CURRENT_TIMESTAMP)'),
                  nullable=False),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('decision_key', 'seq', name='uq_decision_followups_seq'),
    )
    op.create_index('ix_decision_followups_decision_key', 'decision_followups', ['decision_key'])
    op.create_index('ix_decision_followups_order_id', 'decision_followups', ['order_id'])


def downgrade() -> None:
    op.drop_index('ix_decision_followups_order_id', table_name='decision_followups')
    op.drop_index('ix_decision_followups_decision_key', table_name='decision_followups')
    op.drop_table('decision_followups')
