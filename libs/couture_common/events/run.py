"""Topic ``run``: DAG-run and task-instance lifecycle and XComs, keyed by dag_id.

Keying by dag_id puts every run of a DAG on one partition, so one scheduler owns them and sees
their events in order. Task-instance events carry ``try_number``; a fold applies a result only
to the try it names, so redelivered or late results change nothing.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from couture_common.events._base import Event, event_type
from couture_common.topics import RUN

RunType = Literal["manual", "scheduled", "backfill", "dataset_triggered"]
RunState = Literal["queued", "running", "success", "failed"]
TryOutcome = Literal["success", "failed", "up_for_retry", "skipped"]
DecidedState = Literal["skipped", "upstream_failed", "removed", "success", "failed"]


class _RunEvent(Event, frozen=True, kw_only=True):
    dag_id: str
    run_id: str

    def partition_key(self) -> str:
        return self.dag_id


class _TaskEvent(_RunEvent, frozen=True, kw_only=True):
    task_id: str
    map_index: int = -1


@event_type("run.requested", topic=RUN)
class DagRunRequested(_RunEvent, frozen=True, kw_only=True):
    """Someone asked for a run (API trigger, CLI, DagOperator). The scheduler accepts or rejects it.

    A trigger is acknowledged to the caller once this event is in the log, so it is never lost.
    """

    run_type: RunType = "manual"
    logical_date: datetime
    data_interval_start: datetime | None = None
    data_interval_end: datetime | None = None
    conf: dict[str, Any] = {}
    note: str | None = None
    #: Set when a DagOperator task triggered this run: ``dag_id/run_id/task_id`` of that task.
    triggered_by_task: str | None = None
    #: ``couture dags test``: run even while the DAG is paused (Airflow's ``dags test`` does).
    ignore_paused: bool = False


@event_type("run.created", topic=RUN)
class DagRunCreated(_RunEvent, frozen=True, kw_only=True):
    run_type: RunType
    logical_date: datetime
    data_interval_start: datetime
    data_interval_end: datetime
    conf: dict[str, Any] = {}
    dag_version: str
    external_trigger: bool = False
    note: str | None = None
    triggered_by_task: str | None = None
    ignore_paused: bool = False


@event_type("run.rejected", topic=RUN)
class DagRunRejected(_RunEvent, frozen=True, kw_only=True):
    reason: str


@event_type("run.started", topic=RUN)
class DagRunStarted(_RunEvent, frozen=True, kw_only=True):
    """The run left ``queued`` (max_active_runs allowed it) and is ``running``."""


@event_type("run.finished", topic=RUN)
class DagRunFinished(_RunEvent, frozen=True, kw_only=True):
    state: Literal["success", "failed"]
    reason: str | None = None


@event_type("run.state_set", topic=RUN)
class DagRunStateSet(_RunEvent, frozen=True, kw_only=True):
    """A user set the run's state (API patch). Unfinished tasks follow (Airflow's mark success/failed)."""

    state: Literal["queued", "success", "failed"]


@event_type("run.note_set", topic=RUN)
class DagRunNoteSet(_RunEvent, frozen=True, kw_only=True):
    """A user wrote (or, with None, removed) the run's note."""

    note: str | None


@event_type("run.deleted", topic=RUN)
class DagRunDeleted(_RunEvent, frozen=True, kw_only=True):
    pass


@event_type("run.tasks_cleared", topic=RUN)
class TaskInstancesCleared(_RunEvent, frozen=True, kw_only=True):
    """Clear: the named task instances go back to no state and run again (tries continue counting)."""

    task_ids: tuple[str, ...]
    #: Put a finished run back to ``queued`` so it is scheduled again.
    reset_dag_run: bool = True


@event_type("ti.scheduled", topic=RUN)
class TaskInstanceScheduled(_TaskEvent, frozen=True, kw_only=True):
    """Dependencies are met; the task waits for a pool slot or executor capacity."""

    try_number: int


@event_type("ti.queued", topic=RUN)
class TaskInstanceQueued(_TaskEvent, frozen=True, kw_only=True):
    """Sent to the executor group; ``try_number`` is the try about to start (1 for the first)."""

    try_number: int
    max_tries: int
    pool: str = "default_pool"
    pool_slots: int = 1
    priority_weight: int = 1
    queue: str = "default"


@event_type("ti.started", topic=RUN)
class TaskInstanceStarted(_TaskEvent, frozen=True, kw_only=True):
    try_number: int
    hostname: str
    pid: int
    executor_id: str
    start_date: datetime
    log_path: str | None = None


@event_type("ti.finished", topic=RUN)
class TaskInstanceFinished(_TaskEvent, frozen=True, kw_only=True):
    """A try ended. Sent by the executor, or by the scheduler for a zombie or a timed-out try.

    ``state`` is the task instance's next state: ``up_for_retry`` when the try failed with retries
    left. Only the first result for a try is applied.
    """

    try_number: int
    state: TryOutcome
    end_date: datetime
    start_date: datetime | None = None
    error: str | None = None
    #: Branch/short-circuit decisions: downstream task ids this task skips.
    skip_downstream: tuple[str, ...] = ()
    #: ShortCircuitOperator: skip all descendants regardless of their trigger rules.
    skip_all_descendants: bool = False


@event_type("ti.rendered", topic=RUN)
class TaskInstanceRendered(_TaskEvent, frozen=True, kw_only=True):
    """A try's template fields as rendered before it executed (Airflow's ``rendered_fields``).

    The task process masks the secrets the task read and caps each field's size before sending
    them, so nothing here is secret and one event stays small.
    """

    try_number: int
    #: Template field name -> rendered value as JSON data (a capped field is a string saying so).
    rendered_fields: dict[str, Any]


@event_type("ti.state_decided", topic=RUN)
class TaskInstanceStateDecided(_TaskEvent, frozen=True, kw_only=True):
    """The scheduler settled a task without running it (skip / upstream_failed propagation, empty
    operators, removed tasks)."""

    state: DecidedState
    reason: str | None = None


@event_type("ti.state_set", topic=RUN)
class TaskInstanceStateSet(_TaskEvent, frozen=True, kw_only=True):
    """A user marked the task instance (mark success / mark failed / skipped)."""

    state: Literal["success", "failed", "skipped"]


@event_type("ti.note_set", topic=RUN)
class TaskInstanceNoteSet(_TaskEvent, frozen=True, kw_only=True):
    """A user wrote (or, with None, removed) the task instance's note."""

    note: str | None


@event_type("xcom.pushed", topic=RUN)
class XComPushed(_TaskEvent, frozen=True, kw_only=True):
    """An XCom value, JSON-encoded in ``value``. A new try of a task drops its earlier XComs."""

    try_number: int
    key: str
    value: str


@event_type("sla.missed", topic=RUN)
class SlaMissed(_TaskEvent, frozen=True, kw_only=True):
    logical_date: datetime
    deadline: datetime
