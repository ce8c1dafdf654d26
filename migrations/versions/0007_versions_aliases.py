"""state machine versions and aliases

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-03 06:00:00
"""
from alembic import op
import sqlalchemy as sa


revision = '0007'
down_revision = '0006'
branch_labels = None
depends_on = None

Id = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        'state_machine_versions',
        sa.Column('id', Id, autoincrement=True, nullable=False),
        sa.Column('arn', sa.String(length=600), nullable=False),
        sa.Column('state_machine_arn', sa.String(length=512), nullable=False),
        sa.Column('version', sa.Integer(), nullable=False),
        sa.Column('revision_id', Id, nullable=False),
        sa.Column('description', sa.Text(), nullable=True),
        sa.Column('created_at', sa.Float(), nullable=False),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_state_machine_versions')),
        sa.UniqueConstraint('arn', name=op.f('uq_state_machine_versions_arn')),
    )
    op.create_index(
        op.f('ix_state_machine_versions_state_machine_arn'),
        'state_machine_versions', ['state_machine_arn'], unique=False,
    )
    op.create_table(
        'state_machine_aliases',
        sa.Column('id', Id, autoincrement=True, nullable=False),
        sa.Column('arn', sa.String(length=600), nullable=False),
        sa.Column('state_machine_arn', sa.String(length=512), nullable=False),
        sa.Column('name', sa.String(length=80), nullable=False),
        sa.Column('description', sa.Text(), nullable=True),
        sa.Column('routing', sa.Text(), nullable=False),
        sa.Column('created_at', sa.Float(), nullable=False),
        sa.Column('updated_at', sa.Float(), nullable=False),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_state_machine_aliases')),
        sa.UniqueConstraint('arn', name=op.f('uq_state_machine_aliases_arn')),
    )
    op.create_index(
        op.f('ix_state_machine_aliases_state_machine_arn'),
        'state_machine_aliases', ['state_machine_arn'], unique=False,
    )
    with op.batch_alter_table('state_machines', schema=None) as batch_op:
        batch_op.add_column(sa.Column('last_version', sa.Integer(), nullable=False, server_default='0'))
    with op.batch_alter_table('executions', schema=None) as batch_op:
        batch_op.add_column(sa.Column('version_arn', sa.String(length=600), nullable=True))
        batch_op.add_column(sa.Column('alias_arn', sa.String(length=600), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('executions', schema=None) as batch_op:
        batch_op.drop_column('alias_arn')
        batch_op.drop_column('version_arn')
    with op.batch_alter_table('state_machines', schema=None) as batch_op:
        batch_op.drop_column('last_version')
    op.drop_index(op.f('ix_state_machine_aliases_state_machine_arn'), table_name='state_machine_aliases')
    op.drop_table('state_machine_aliases')
    op.drop_index(op.f('ix_state_machine_versions_state_machine_arn'), table_name='state_machine_versions')
    op.drop_table('state_machine_versions')
