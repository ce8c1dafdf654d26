"""Status notifications: the topics a state machine's ended executions are published to

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-03 08:25:00
"""
from alembic import op
import sqlalchemy as sa


revision = '0011'
down_revision = '0010'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'status_notifications',
        sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
        sa.Column('state_machine_arn', sa.String(length=256), nullable=False),
        sa.Column('topic_arn', sa.String(length=512), nullable=False),
        sa.Column('created_at', sa.Float(), nullable=False),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_status_notifications')),
        sa.UniqueConstraint('state_machine_arn', 'topic_arn', name='uq_status_notifications_target'),
    )
    with op.batch_alter_table('status_notifications', schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f('ix_status_notifications_state_machine_arn'), ['state_machine_arn'], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table('status_notifications', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_status_notifications_state_machine_arn'))
    op.drop_table('status_notifications')
