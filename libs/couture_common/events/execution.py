"""Topics ``task-queue``, ``control`` and ``heartbeat``: commands to the executor group and its pulse."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from couture_common.events._base import Event, event_type
from couture_common.topics import CONTROL, HEARTBEAT, TASK_QUEUE


class _TryEvent(Event, frozen=True, kw_only=True):
    dag_id: str
    run_id: str
    task_id: str
    map_index: int = -1
    try_number: int

    def partition_key(self) -> str:
        return f"{self.dag_id}/{self.run_id}/{self.task_id}"


@event_type("queue.execute_task", topic=TASK_QUEUE)
class ExecuteTask(_TryEvent, frozen=True, kw_only=True):
    """Run one try of a task. Everything the executor needs travels here; the DAG file is fetched by
    ``dag_version`` (its content hash).

    ``run_log_offset``: the executor must have read the ``run`` topic partition ``run_log_partition``
    up to this offset before it starts, so xcom_pull sees every upstream XCom.
    """

    max_tries: int
    dag_version: str
    fileloc: str
    run_type: str
    logical_date: datetime
    data_interval_start: datetime
    data_interval_end: datetime
    conf: dict[str, Any] = {}
    external_trigger: bool = False
    pool: str = "default_pool"
    priority_weight: int = 1
    queue: str = "default"
    execution_timeout: float | None = None
    run_log_partition: int = 0
    run_log_offset: int = -1


@event_type("control.kill_task", topic=CONTROL)
class KillTask(_TryEvent, frozen=True, kw_only=True):
    reason: str


@event_type("ti.heartbeat", topic=HEARTBEAT)
class TaskHeartbeat(_TryEvent, frozen=True, kw_only=True):
    executor_id: str
    pid: int
    at: datetime
