"""SQLAlchemy Core tables; the Alembic tree in ``migrations/`` is generated from these."""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Column,
    Float,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
)

metadata = MetaData(
    naming_convention={
        "ix": "ix_%(table_name)s_%(column_0_name)s",
        "uq": "uq_%(table_name)s_%(column_0_name)s",
        "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
        "pk": "pk_%(table_name)s",
    }
)

# Integer ids autoincrement on SQLite only when declared INTEGER PRIMARY KEY; BigInteger maps
# to BIGINT on PostgreSQL.
Id = BigInteger().with_variant(Integer(), "sqlite")

state_machines = Table(
    "state_machines",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("arn", String(512), nullable=False, unique=True),
    Column("name", String(80), nullable=False),
    Column("type", String(16), nullable=False),
    Column("role_arn", String(512), nullable=False),
    Column("status", String(16), nullable=False),
    Column("created_at", Float, nullable=False),
    Column("updated_at", Float, nullable=True),
    Column("revision_id", Id, ForeignKey("state_machine_revisions.id"), nullable=True),
    Column("description", Text, nullable=True),
    Column("logging_configuration", Text, nullable=True),
    Column("tracing_configuration", Text, nullable=True),
    # The highest version number ever published: numbers are never reused after a delete.
    Column("last_version", Integer, nullable=False, default=0, server_default="0"),
)

# Every definition a state machine ever had: executions keep running the one they started with.
state_machine_revisions = Table(
    "state_machine_revisions",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("state_machine_arn", String(512), nullable=False, index=True),
    Column("revision_uuid", String(64), nullable=False),
    Column("definition", Text, nullable=False),
    Column("role_arn", String(512), nullable=False),
    Column("created_at", Float, nullable=False),
)

# Published versions: immutable snapshots (a revision) that executions and aliases can name.
state_machine_versions = Table(
    "state_machine_versions",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("arn", String(600), nullable=False, unique=True),
    Column("state_machine_arn", String(512), nullable=False, index=True),
    Column("version", Integer, nullable=False),
    Column("revision_id", Id, nullable=False),
    Column("description", Text, nullable=True),
    Column("created_at", Float, nullable=False),
)

# Aliases route StartExecution to one or two versions by weight.
state_machine_aliases = Table(
    "state_machine_aliases",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("arn", String(600), nullable=False, unique=True),
    Column("state_machine_arn", String(512), nullable=False, index=True),
    Column("name", String(80), nullable=False),
    Column("description", Text, nullable=True),
    Column("routing", Text, nullable=False),
    Column("created_at", Float, nullable=False),
    Column("updated_at", Float, nullable=False),
)

executions = Table(
    "executions",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("arn", String(600), nullable=False, unique=True),
    Column("state_machine_arn", String(512), nullable=False),
    Column("revision_id", Id, nullable=False),
    Column("name", String(80), nullable=False),
    Column("status", String(16), nullable=False),
    Column("input", Text, nullable=False),
    Column("output", Text, nullable=True),
    Column("error", Text, nullable=True),
    Column("cause", Text, nullable=True),
    Column("start_date", Float, nullable=False),
    Column("stop_date", Float, nullable=True),
    Column("trace_header", String(256), nullable=True),
    Column("redrive_count", Integer, nullable=False, default=0, server_default="0"),
    Column("redrive_date", Float, nullable=True),
    # A child started by a parent's states:startExecution Task: whom to answer when it ends.
    Column("parent_id", Id, nullable=True, index=True),
    Column("parent_request_seq", Integer, nullable=True),
    Column("parent_pattern", String(32), nullable=True),
    # Started through a version or an alias (DescribeExecution names them; ListExecutions
    # filters by them).
    Column("version_arn", String(600), nullable=True),
    Column("alias_arn", String(600), nullable=True),
    # Durable-runtime bookkeeping (see engine.history.decider):
    Column("runnable", Integer, nullable=False, default=0),
    Column("lease_owner", String(64), nullable=True),
    Column("lease_expires", Float, nullable=True),
    Column("event_count", Integer, nullable=False, default=0),
    Column("request_seq", Integer, nullable=False, default=0),
    Column("resolution_count", Integer, nullable=False, default=0),
    Column("applied_count", Integer, nullable=False, default=0),
    Index("ix_executions_sm_status", "state_machine_arn", "status"),
    Index("ix_executions_runnable", "runnable", "lease_expires"),
)

history_events = Table(
    "history_events",
    metadata,
    Column("execution_id", Id, primary_key=True),
    Column("event_id", Integer, primary_key=True),
    Column("previous_event_id", Integer, nullable=False),
    Column("type", String(48), nullable=False),
    Column("timestamp", Float, nullable=False),
    Column("details", Text, nullable=True),
)

# What the outside world answered to an execution's requests, in the order it answered:
# replaying these in order rebuilds the execution (engine.history.decider).
resolutions = Table(
    "resolutions",
    metadata,
    Column("execution_id", Id, primary_key=True),
    Column("seq", Integer, primary_key=True),
    Column("request_seq", Integer, nullable=False),
    Column("value", Text, nullable=True),
    Column("created_at", Float, nullable=False),
)

timers = Table(
    "timers",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("execution_id", Id, nullable=False),
    Column("request_seq", Integer, nullable=False),
    Column("due_at", Float, nullable=False, index=True),
    UniqueConstraint("execution_id", "request_seq", name="uq_timers_request"),
)

tags = Table(
    "tags",
    metadata,
    Column("resource_arn", String(600), primary_key=True),
    Column("key", String(128), primary_key=True),
    Column("value", String(256), nullable=False),
)

# Work handed to the outside world by Task states: activity and function tasks that workers
# poll for, and callbacks (.waitForTaskToken) that anyone holding the token may answer.
tasks = Table(
    "tasks",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("token", String(700), nullable=False, unique=True),
    Column("execution_id", Id, nullable=False, index=True),
    Column("request_seq", Integer, nullable=False),
    Column("kind", String(16), nullable=False),
    Column("resource", String(600), nullable=False),
    # The Task state's Resource ARN as written (the resource above is what workers poll for).
    Column("target", String(600), nullable=True),
    Column("input", Text, nullable=False),
    Column("status", String(16), nullable=False),
    Column("worker_name", String(256), nullable=True),
    Column("created_at", Float, nullable=False),
    Column("started_at", Float, nullable=True),
    Column("timeout_at", Float, nullable=True),
    Column("heartbeat_seconds", Integer, nullable=True),
    Column("heartbeat_at", Float, nullable=True),
    Index("ix_tasks_poll", "kind", "resource", "status", "id"),
)

activities = Table(
    "activities",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("arn", String(512), nullable=False, unique=True),
    Column("name", String(80), nullable=False),
    Column("created_at", Float, nullable=False),
)

# Function names that task workers serve; a function nobody serves fails like a missing Lambda.
functions = Table(
    "functions",
    metadata,
    Column("name", String(140), primary_key=True),
    Column("last_seen", Float, nullable=False),
)

# Distributed Map runs, projected from MapRun* history events when they are committed.
map_runs = Table(
    "map_runs",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("arn", String(700), nullable=False, unique=True),
    Column("execution_id", Id, nullable=False, index=True),
    Column("execution_arn", String(600), nullable=False),
    Column("state_machine_arn", String(700), nullable=False),
    Column("status", String(16), nullable=False),
    Column("start_date", Float, nullable=False),
    Column("stop_date", Float, nullable=True),
    Column("max_concurrency", Integer, nullable=False),
    Column("tolerated_failure_count", Integer, nullable=False),
    Column("tolerated_failure_percentage", Float, nullable=False),
    Column("total", Integer, nullable=False),
    Column("succeeded", Integer, nullable=False),
    Column("failed", Integer, nullable=False),
    Column("aborted", Integer, nullable=False),
)

# SQS-compatible queues (engine.store.queues). A deleted queue keeps its row for a minute as a
# tombstone (deleted_at) because SQS refuses to recreate a name that soon (QueueDeletedRecently).
queues = Table(
    "queues",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("account", String(12), nullable=False),
    Column("name", String(80), nullable=False),
    Column("arn", String(256), nullable=False),
    Column("fifo", Integer, nullable=False, default=0),
    # The settable attributes as SQS names them, JSON-encoded strings ("VisibilityTimeout": "30").
    Column("attributes", Text, nullable=False),
    Column("tags", Text, nullable=False),
    # Denormalised from RedrivePolicy so ListDeadLetterSourceQueues is one indexed query.
    Column("dlq_arn", String(256), nullable=True, index=True),
    Column("sequence", BigInteger, nullable=False, default=0),
    Column("created_at", Float, nullable=False),
    Column("modified_at", Float, nullable=False),
    Column("purged_at", Float, nullable=True),
    Column("deleted_at", Float, nullable=True),
    UniqueConstraint("account", "name", name="uq_queues_account_name"),
)

queue_messages = Table(
    "queue_messages",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("queue_id", Id, nullable=False),
    Column("message_id", String(64), nullable=False),
    Column("body", Text, nullable=False),
    Column("attributes", Text, nullable=True),
    Column("system_attributes", Text, nullable=True),
    Column("sent_at", Float, nullable=False),
    Column("visible_at", Float, nullable=False),
    Column("receive_count", Integer, nullable=False, default=0),
    Column("first_received_at", Float, nullable=True),
    # The nonce of the newest receipt handle: only that handle may delete the message.
    Column("receipt", String(64), nullable=True),
    Column("group_id", String(128), nullable=True),
    Column("dedup_id", String(128), nullable=True),
    Column("sequence_number", BigInteger, nullable=True),
    Column("source_arn", String(256), nullable=True),
    Index("ix_queue_messages_queue_visible", "queue_id", "visible_at"),
    Index("ix_queue_messages_queue_group", "queue_id", "group_id", "id"),
)

# FIFO deduplication ids seen in the last five minutes; kept after the message is deleted.
queue_dedup = Table(
    "queue_dedup",
    metadata,
    Column("queue_id", Id, primary_key=True),
    Column("dedup_key", String(300), primary_key=True),
    Column("message_id", String(64), nullable=False),
    Column("sequence_number", BigInteger, nullable=True),
    Column("expires_at", Float, nullable=False),
)

# FIFO receive attempts of the last five minutes (ReceiveRequestAttemptId): what each returned,
# so a retried receive gets the same messages and receipt handles.
queue_receive_attempts = Table(
    "queue_receive_attempts",
    metadata,
    Column("queue_id", Id, primary_key=True),
    Column("attempt_id", String(128), primary_key=True),
    Column("created_at", Float, nullable=False),
    # JSON: [[message row id, receipt nonce, visible_at], ...] in the order returned.
    Column("messages", Text, nullable=False),
)

queue_move_tasks = Table(
    "queue_move_tasks",
    metadata,
    Column("handle", String(256), primary_key=True),
    Column("source_arn", String(256), nullable=False, index=True),
    Column("destination_arn", String(256), nullable=True),
    Column("status", String(16), nullable=False),
    Column("max_per_second", Integer, nullable=True),
    Column("moved", Integer, nullable=False, default=0),
    Column("to_move", Integer, nullable=False, default=0),
    Column("failure_reason", Text, nullable=True),
    Column("started_at", Float, nullable=False),
)

# Kinesis-compatible data streams (engine.store.streams). Records live in their shard's order:
# ``position`` is the shard's own counter, which the sequence number the client sees encodes.
streams = Table(
    "streams",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("account", String(12), nullable=False),
    Column("name", String(128), nullable=False),
    Column("arn", String(512), nullable=False),
    Column("status", String(16), nullable=False),
    Column("mode", String(16), nullable=False),
    Column("retention_hours", Integer, nullable=False),
    Column("encryption_type", String(8), nullable=False),
    Column("key_id", String(2048), nullable=True),
    Column("max_record_kib", Integer, nullable=False),
    # The index the next new shard takes (shardId-<index>); indexes are never reused.
    Column("next_shard", Integer, nullable=False),
    Column("created_at", Float, nullable=False),
    UniqueConstraint("account", "name", name="uq_streams_account_name"),
)

stream_shards = Table(
    "stream_shards",
    metadata,
    Column("stream_id", Id, primary_key=True),
    Column("shard_index", Integer, primary_key=True),
    # Hash keys are 128-bit: decimal strings, compared as numbers in Python.
    Column("starting_hash_key", String(40), nullable=False),
    Column("ending_hash_key", String(40), nullable=False),
    Column("parent_index", Integer, nullable=True),
    Column("adjacent_parent_index", Integer, nullable=True),
    # The last position handed out in this shard; the UPDATE that takes the next ones also
    # locks the row, so positions follow commit order.
    Column("last_position", BigInteger, nullable=False),
    Column("created_at", Float, nullable=False),
    Column("closed_at", Float, nullable=True),
    # The position of the shard's last record once it is closed (split or merged).
    Column("ending_position", BigInteger, nullable=True),
)

stream_records = Table(
    "stream_records",
    metadata,
    Column("stream_id", Id, primary_key=True),
    Column("shard_index", Integer, primary_key=True),
    Column("position", BigInteger, primary_key=True),
    Column("partition_key", String(256), nullable=False),
    Column("explicit_hash_key", String(40), nullable=True),
    Column("data", LargeBinary, nullable=False),
    Column("arrived_at", Float, nullable=False),
    Index("ix_stream_records_arrival", "stream_id", "shard_index", "arrived_at"),
)

# SNS-compatible topics (engine.store.topics). Deleting a topic deletes its row and its
# subscriptions at once: SNS frees a topic name immediately (unlike SQS's 60 seconds).
topics = Table(
    "topics",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("account", String(12), nullable=False),
    Column("name", String(256), nullable=False),
    Column("arn", String(512), nullable=False),
    Column("fifo", Integer, nullable=False, default=0),
    # The settable attributes as SNS names them, JSON-encoded strings ("DisplayName": "x").
    Column("attributes", Text, nullable=False),
    Column("tags", Text, nullable=False),
    # FIFO topics number their messages (SequenceNumber), like FIFO queues.
    Column("sequence", BigInteger, nullable=False, default=0),
    Column("created_at", Float, nullable=False),
    UniqueConstraint("arn", name="uq_topics_arn"),
)

topic_subscriptions = Table(
    "topic_subscriptions",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("arn", String(600), nullable=False),
    Column("topic_arn", String(512), nullable=False, index=True),
    Column("account", String(12), nullable=False),
    Column("protocol", String(32), nullable=False),
    Column("endpoint", Text, nullable=False),
    # "confirmed" (SQS: at once) or "pending" (protocols whose delivery is not served yet).
    Column("status", String(16), nullable=False),
    # The settable attributes (RawMessageDelivery, FilterPolicy, ...), JSON-encoded strings.
    Column("attributes", Text, nullable=False),
    Column("created_at", Float, nullable=False),
    UniqueConstraint("arn", name="uq_topic_subscriptions_arn"),
)

# FIFO topics' deduplication ids of the last five minutes: a repeat is accepted, not delivered.
topic_dedup = Table(
    "topic_dedup",
    metadata,
    Column("topic_id", Id, primary_key=True),
    Column("dedup_key", String(300), primary_key=True),
    Column("message_id", String(64), nullable=False),
    Column("sequence_number", BigInteger, nullable=True),
    Column("expires_at", Float, nullable=False),
)

# The topics a state machine's executions are announced to when they end (status notifications,
# engine.services.status_notifications).
status_notifications = Table(
    "status_notifications",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("state_machine_arn", String(256), nullable=False, index=True),
    Column("topic_arn", String(512), nullable=False),
    Column("created_at", Float, nullable=False),
    UniqueConstraint("state_machine_arn", "topic_arn", name="uq_status_notifications_target"),
)
