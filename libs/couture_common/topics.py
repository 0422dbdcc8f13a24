"""The topics of the event log and how each is kept."""

from __future__ import annotations

import msgspec


class TopicSpec(msgspec.Struct, frozen=True):
    name: str
    partitions: int
    #: Compacted topics keep the newest event per key (configuration); the rest keep everything.
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

TOPICS: dict[str, TopicSpec] = {
    DAG: TopicSpec(DAG, 1),
    RUN: TopicSpec(RUN, 8),
    TASK_QUEUE: TopicSpec(TASK_QUEUE, 8),
    CONTROL: TopicSpec(CONTROL, 1),
    HEARTBEAT: TopicSpec(HEARTBEAT, 4, retention_hours=24),
    CONFIG: TopicSpec(CONFIG, 1, compacted=True),
    AUTH: TopicSpec(AUTH, 1, compacted=True),
    AUDIT: TopicSpec(AUDIT, 4),
    # Failed logins: only the last minutes matter to the lockout; a day is kept for inspection.
    LOGIN: TopicSpec(LOGIN, 1, retention_hours=24),
}
