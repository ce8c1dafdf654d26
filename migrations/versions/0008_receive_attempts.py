"""FIFO receive attempts (ReceiveRequestAttemptId)

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-03 06:10:00
"""
from alembic import op
import sqlalchemy as sa


revision = '0008'
down_revision = '0007'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'queue_receive_attempts',
        sa.Column('queue_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
        sa.Column('attempt_id', sa.String(length=128), nullable=False),
        sa.Column('created_at', sa.Float(), nullable=False),
        sa.Column('messages', sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint('queue_id', 'attempt_id', name=op.f('pk_queue_receive_attempts')),
    )


def downgrade() -> None:
    op.drop_table('queue_receive_attempts')
