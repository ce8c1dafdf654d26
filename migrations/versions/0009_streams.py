"""Kinesis-compatible data streams: streams, shards, records

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-05 09:00:00
"""
from alembic import op
import sqlalchemy as sa


revision = '0009'
down_revision = '0008'
branch_labels = None
depends_on = None

Id = sa.BigInteger().with_variant(sa.Integer(), 'sqlite')


def upgrade() -> None:
    op.create_table(
        'streams',
        sa.Column('id', Id, autoincrement=True, nullable=False),
        sa.Column('account', sa.String(length=12), nullable=False),
        sa.Column('name', sa.String(length=128), nullable=False),
        sa.Column('arn', sa.String(length=512), nullable=False),
        sa.Column('status', sa.String(length=16), nullable=False),
        sa.Column('mode', sa.String(length=16), nullable=False),
        sa.Column('retention_hours', sa.Integer(), nullable=False),
        sa.Column('encryption_type', sa.String(length=8), nullable=False),
        sa.Column('key_id', sa.String(length=2048), nullable=True),
        sa.Column('max_record_kib', sa.Integer(), nullable=False),
        sa.Column('next_shard', sa.Integer(), nullable=False),
        sa.Column('created_at', sa.Float(), nullable=False),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_streams')),
        sa.UniqueConstraint('account', 'name', name='uq_streams_account_name'),
    )
    op.create_table(
        'stream_shards',
        sa.Column('stream_id', Id, nullable=False),
        sa.Column('shard_index', sa.Integer(), nullable=False),
        sa.Column('starting_hash_key', sa.String(length=40), nullable=False),
        sa.Column('ending_hash_key', sa.String(length=40), nullable=False),
        sa.Column('parent_index', sa.Integer(), nullable=True),
        sa.Column('adjacent_parent_index', sa.Integer(), nullable=True),
        sa.Column('last_position', sa.BigInteger(), nullable=False),
        sa.Column('created_at', sa.Float(), nullable=False),
        sa.Column('closed_at', sa.Float(), nullable=True),
        sa.Column('ending_position', sa.BigInteger(), nullable=True),
        sa.PrimaryKeyConstraint('stream_id', 'shard_index', name=op.f('pk_stream_shards')),
    )
    op.create_table(
        'stream_records',
        sa.Column('stream_id', Id, nullable=False),
        sa.Column('shard_index', sa.Integer(), nullable=False),
        sa.Column('position', sa.BigInteger(), nullable=False),
        sa.Column('partition_key', sa.String(length=256), nullable=False),
        sa.Column('explicit_hash_key', sa.String(length=40), nullable=True),
        sa.Column('data', sa.LargeBinary(), nullable=False),
        sa.Column('arrived_at', sa.Float(), nullable=False),
        sa.PrimaryKeyConstraint(
            'stream_id', 'shard_index', 'position', name=op.f('pk_stream_records')
        ),
    )
    with op.batch_alter_table('stream_records', schema=None) as batch_op:
        batch_op.create_index(
            'ix_stream_records_arrival', ['stream_id', 'shard_index', 'arrived_at'], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table('stream_records', schema=None) as batch_op:
        batch_op.drop_index('ix_stream_records_arrival')
    op.drop_table('stream_records')
    op.drop_table('stream_shards')
    op.drop_table('streams')
