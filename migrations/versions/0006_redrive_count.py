"""redrive count and date on executions

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-02 13:40:00
"""
from alembic import op
import sqlalchemy as sa


revision = '0006'
down_revision = '0005'
branch_labels = None
depends_on = None


def upgrade() -> None:
    # DescribeExecution read the count by scanning the history for ExecutionRedriven events,
    # a cost that grew with the history; the row now carries it.
    with op.batch_alter_table('executions', schema=None) as batch_op:
        batch_op.add_column(sa.Column('redrive_count', sa.Integer(), nullable=False, server_default='0'))
        batch_op.add_column(sa.Column('redrive_date', sa.Float(), nullable=True))
    op.execute(
        "UPDATE executions SET redrive_count = (SELECT count(*) FROM history_events "
        "WHERE history_events.execution_id = executions.id "
        "AND history_events.type = 'ExecutionRedriven')"
    )
    op.execute(
        "UPDATE executions SET redrive_date = (SELECT max(timestamp) FROM history_events "
        "WHERE history_events.execution_id = executions.id "
        "AND history_events.type = 'ExecutionRedriven') WHERE redrive_count > 0"
    )


def downgrade() -> None:
    with op.batch_alter_table('executions', schema=None) as batch_op:
        batch_op.drop_column('redrive_date')
        batch_op.drop_column('redrive_count')
