"""SNS topics, their subscriptions and FIFO deduplication ids

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-03 07:27:39.975335
"""
from alembic import op
import sqlalchemy as sa


revision = '0010'
down_revision = '0009'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('topic_dedup',
    sa.Column('topic_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('dedup_key', sa.String(length=300), nullable=False),
    sa.Column('message_id', sa.String(length=64), nullable=False),
    sa.Column('sequence_number', sa.BigInteger(), nullable=True),
    sa.Column('expires_at', sa.Float(), nullable=False),
    sa.PrimaryKeyConstraint('topic_id', 'dedup_key', name=op.f('pk_topic_dedup'))
    )
    op.create_table('topic_subscriptions',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('arn', sa.String(length=600), nullable=False),
    sa.Column('topic_arn', sa.String(length=512), nullable=False),
    sa.Column('account', sa.String(length=12), nullable=False),
    sa.Column('protocol', sa.String(length=32), nullable=False),
    sa.Column('endpoint', sa.Text(), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('attributes', sa.Text(), nullable=False),
    sa.Column('created_at', sa.Float(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_topic_subscriptions')),
    sa.UniqueConstraint('arn', name='uq_topic_subscriptions_arn')
    )
    with op.batch_alter_table('topic_subscriptions', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_topic_subscriptions_topic_arn'), ['topic_arn'], unique=False)

    op.create_table('topics',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('account', sa.String(length=12), nullable=False),
    sa.Column('name', sa.String(length=256), nullable=False),
    sa.Column('arn', sa.String(length=512), nullable=False),
    sa.Column('fifo', sa.Integer(), nullable=False),
    sa.Column('attributes', sa.Text(), nullable=False),
    sa.Column('tags', sa.Text(), nullable=False),
    sa.Column('sequence', sa.BigInteger(), nullable=False),
    sa.Column('created_at', sa.Float(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_topics')),
    sa.UniqueConstraint('arn', name='uq_topics_arn')
    )


def downgrade() -> None:
    op.drop_table('topics')
    with op.batch_alter_table('topic_subscriptions', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_topic_subscriptions_topic_arn'))

    op.drop_table('topic_subscriptions')
    op.drop_table('topic_dedup')
