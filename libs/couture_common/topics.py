"""The topics of the event log and how each is kept."""

from __future__ import annotations

import msgspec


class TopicSpec(msgspec.Struct, frozen=True):
    name: str
    partitions: int
    #: Compacted topics keep the newest event per key, so every event on one must state its key's
    #: whole state (tests/unit/test_topic_compaction.py proves it); the rest keep everything.
    compacted: bool = False
    #: Retention in hours for short-lived topics (heartbeats); None keeps events forever.
    retention_hours: float | None = None


DAG = "dag"
RUN = "run"
TASK_QUEUE = "task-queue"
CONTROL = "control"
HEARTBEAT = "heartbeat"
CONFIG = "config"
AUTH = "auth"
AUDIT = "audit"
LOGIN = "login"
POOL = "pool"

TOPICS: dict[str, TopicSpec] = {
    DAG: TopicSpec(DAG, 1),
    RUN: TopicSpec(RUN, 8),
    # Pool slots between schedulers, keyed by pool name. As many partitions as ``run``: the arbiter
    # of a pool is the scheduler owning the ``run`` partition of the same index.
    POOL: TopicSpec(POOL, 8),
    TASK_QUEUE: TopicSpec(TASK_QUEUE, 8),
    CONTROL: TopicSpec(CONTROL, 1),
    HEARTBEAT: TopicSpec(HEARTBEAT, 4, retention_hours=24),
    CONFIG: TopicSpec(CONFIG, 1, compacted=True),
    # Not compacted: a user's events share one key and most change part of it (a password, roles),
    # so compaction would keep only the newest and lose the user.
    AUTH: TopicSpec(AUTH, 1),
    AUDIT: TopicSpec(AUDIT, 4),
    # Failed logins: only the last minutes matter to the lockout; a day is kept for inspection.
    LOGIN: TopicSpec(LOGIN, 1, retention_hours=24),
}
