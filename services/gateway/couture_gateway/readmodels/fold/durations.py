"""Task-duration statistics: how long each task's tries ran, per DAG. Pure: time comes from events.

A DAG's statistics are one value (``DagDurations``), so a key-value store (the stream worker's
table) holds one entry per DAG, on the partition that holds the DAG's run events.

A try counts once, when it finishes after a ``TaskInstanceStarted`` this fold has seen: a second
``TaskInstanceFinished`` for the same try (an executor and the scheduler both ending it) finds it
closed already and changes nothing. A try that finishes
without having started (a zombie found before its start was read, a queued try that was killed)
has no duration and is not counted.
"""

from __future__ import annotations

from datetime import datetime

import msgspec

from couture_common.clock import ensure_utc
from couture_common.events import Event, TaskInstanceFinished, TaskInstanceStarted


class RunningTry(msgspec.Struct, frozen=True, kw_only=True):
    run_id: str
    map_index: int
    try_number: int
    start_date: datetime


class TaskDurations(msgspec.Struct, frozen=True, kw_only=True):
    """One task's finished tries, in seconds."""

    count: int = 0
    total_seconds: float = 0.0
    min_seconds: float | None = None
    max_seconds: float | None = None
    last_seconds: float | None = None
    #: Finished tries by the state they left the task instance in (``success``, ``up_for_retry``...).
    outcomes: dict[str, int] = {}
    #: Tries started and not finished yet: their start is what a finish is measured from.
    running: tuple[RunningTry, ...] = ()

    @property
    def mean_seconds(self) -> float | None:
        return self.total_seconds / self.count if self.count else None


class DagDurations(msgspec.Struct, frozen=True, kw_only=True):
    dag_id: str
    tasks: dict[str, TaskDurations] = {}


#: The events this fold reads; any other event leaves the statistics as they are.
DURATION_EVENTS: tuple[type[Event], ...] = (TaskInstanceStarted, TaskInstanceFinished)


def apply(stats: DagDurations | None, event: Event) -> DagDurations | None:
    """``stats`` (None for a DAG not seen yet) after ``event``; None when the event is not one of these."""
    if isinstance(event, TaskInstanceStarted):
        current = _current(stats, event.dag_id)
        task = current.tasks.get(event.task_id, TaskDurations())
        return _with_task(current, event.task_id, _started(task, event))
    if isinstance(event, TaskInstanceFinished):
        current = _current(stats, event.dag_id)
        known = current.tasks.get(event.task_id)
        if known is None:
            return current
        return _with_task(current, event.task_id, _finished(known, event))
    return stats


def _current(stats: DagDurations | None, dag_id: str) -> DagDurations:
    if stats is None:
        return DagDurations(dag_id=dag_id)
    if stats.dag_id != dag_id:
        raise ValueError(f"statistics of DAG {stats.dag_id!r} cannot take an event of DAG {dag_id!r}")
    return stats


def _with_task(stats: DagDurations, task_id: str, task: TaskDurations) -> DagDurations:
    return msgspec.structs.replace(stats, tasks={**stats.tasks, task_id: task})


def _same_try(running: RunningTry, event: TaskInstanceStarted | TaskInstanceFinished) -> bool:
    return (running.run_id, running.map_index, running.try_number) == (
        event.run_id,
        event.map_index,
        event.try_number,
    )


def _started(task: TaskDurations, event: TaskInstanceStarted) -> TaskDurations:
    if any(_same_try(running, event) for running in task.running):
        return task
    opened = RunningTry(
        run_id=event.run_id,
        map_index=event.map_index,
        try_number=event.try_number,
        start_date=ensure_utc(event.start_date),
    )
    return msgspec.structs.replace(task, running=(*task.running, opened))


def _finished(task: TaskDurations, event: TaskInstanceFinished) -> TaskDurations:
    started = next((running for running in task.running if _same_try(running, event)), None)
    if started is None:
        return task
    seconds = max(0.0, (ensure_utc(event.end_date) - started.start_date).total_seconds())
    return TaskDurations(
        count=task.count + 1,
        total_seconds=task.total_seconds + seconds,
        min_seconds=seconds if task.min_seconds is None else min(task.min_seconds, seconds),
        max_seconds=seconds if task.max_seconds is None else max(task.max_seconds, seconds),
        last_seconds=seconds,
        outcomes={**task.outcomes, event.state: task.outcomes.get(event.state, 0) + 1},
        running=tuple(running for running in task.running if running is not started),
    )
