"""What the executor knows from the ``run`` topic: XComs to answer ``xcom_pull`` and tries already finished.

The view is a fold over the topic, bounded by evicting runs that finished more than ``retention``
ago. A pull for an evicted run is refused with :class:`XComsEvictedError` rather than answered with
missing values: a silently absent XCom would change what a task computes. Tasks of such old runs
only run again when a user clears them long after the fact; they fail with that error and the user
sees why. The retention is a constructor argument (24 h by default in the service).
"""

from __future__ import annotations

from collections import OrderedDict
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from couture_common.events import (
    DagRunCreated,
    DagRunDeleted,
    DagRunFinished,
    DagRunStateSet,
    Event,
    TaskInstanceFinished,
    TaskInstancesCleared,
    TaskInstanceStarted,
    XComPushed,
)
from couture_executor.domain.tries import TryKey

RunKey = tuple[str, str]
TaskKey = tuple[str, int]

#: How many evicted run ids are remembered, so their pulls fail clearly instead of returning nothing.
EVICTED_MEMORY = 100_000


class XComsEvictedError(LookupError):
    pass


@dataclass
class _XCom:
    value: str
    sequence: int


@dataclass
class _TaskXComs:
    try_number: int
    values: dict[str, _XCom] = field(default_factory=dict)


@dataclass
class _Run:
    logical_date: datetime | None = None
    finished_at: datetime | None = None
    xcoms: dict[TaskKey, _TaskXComs] = field(default_factory=dict)
    finished_tries: set[tuple[str, int, int]] = field(default_factory=set)


class RunView:
    def __init__(self, retention: timedelta) -> None:
        self._retention = retention
        self._runs: dict[RunKey, _Run] = {}
        self._evicted: OrderedDict[RunKey, None] = OrderedDict()
        self._sequence = 0

    def apply(self, event: Event, at: datetime) -> None:
        """Fold one ``run`` event; ``at`` is its envelope time. Applying an event twice changes nothing."""
        match event:
            case XComPushed():
                self._push(event)
            case TaskInstanceStarted():
                self._drop_older_tries(
                    event.dag_id, event.run_id, (event.task_id, event.map_index), event.try_number
                )
            case TaskInstanceFinished():
                self._run(event.dag_id, event.run_id).finished_tries.add(
                    (event.task_id, event.map_index, event.try_number)
                )
            case DagRunCreated():
                self._run(event.dag_id, event.run_id).logical_date = event.logical_date
            case DagRunFinished():
                self._run(event.dag_id, event.run_id).finished_at = at
            case DagRunStateSet():
                self._run(event.dag_id, event.run_id).finished_at = None if event.state == "queued" else at
            case TaskInstancesCleared() if event.reset_dag_run:
                self._run(event.dag_id, event.run_id).finished_at = None
            case DagRunDeleted():
                self._forget((event.dag_id, event.run_id))

    def record_finished(self, key: TryKey) -> None:
        """This executor appended the try's result; remember it before the topic delivers it back."""
        self._run(key.dag_id, key.run_id).finished_tries.add((key.task_id, key.map_index, key.try_number))

    def is_finished(self, key: TryKey) -> bool:
        run = self._runs.get((key.dag_id, key.run_id))
        return run is not None and (key.task_id, key.map_index, key.try_number) in run.finished_tries

    def push(self, event: XComPushed) -> None:
        """An XCom pushed by a running task, visible to its own later pulls at once."""
        self._push(event)

    def pull(
        self,
        *,
        dag_id: str,
        run_id: str,
        task_ids: list[str] | None,
        key: str,
        include_prior_dates: bool = False,
    ) -> list[str | None]:
        """JSON texts of ``key`` per task id in order (None where absent); every task that has it when
        ``task_ids`` is None. Mapped tasks answer with the JSON list of their values by map index."""
        run_key = (dag_id, run_id)
        if run_key in self._evicted:
            raise XComsEvictedError(
                f"XComs of run {dag_id}/{run_id} are no longer held by this executor: the run finished "
                f"more than {self._retention.total_seconds() / 3600:g} h ago"
            )
        run = self._runs.get(run_key)
        if task_ids is None:
            if run is None:
                return []
            found = sorted(
                (
                    value
                    for (_task, _index), t in run.xcoms.items()
                    for k, value in t.values.items()
                    if k == key
                ),
                key=lambda x: x.sequence,
            )
            return [x.value for x in found]
        prior = self._prior_runs(dag_id, run) if include_prior_dates else []
        values: list[str | None] = []
        for task_id in task_ids:
            value = _task_value(run, task_id, key) if run is not None else None
            for earlier in prior:
                if value is not None:
                    break
                value = _task_value(earlier, task_id, key)
            values.append(value)
        return values

    def evict(self, now: datetime) -> int:
        """Forget runs that finished more than ``retention`` before ``now``; returns how many."""
        horizon = now - self._retention
        old = [
            k for k, run in self._runs.items() if run.finished_at is not None and run.finished_at <= horizon
        ]
        for run_key in old:
            self._forget(run_key)
        return len(old)

    def __len__(self) -> int:
        return len(self._runs)

    def _run(self, dag_id: str, run_id: str) -> _Run:
        run_key = (dag_id, run_id)
        run = self._runs.get(run_key)
        if run is None:
            run = self._runs[run_key] = _Run()
        return run

    def _forget(self, run_key: RunKey) -> None:
        self._runs.pop(run_key, None)
        self._evicted[run_key] = None
        while len(self._evicted) > EVICTED_MEMORY:
            self._evicted.popitem(last=False)

    def _push(self, event: XComPushed) -> None:
        task = self._drop_older_tries(
            event.dag_id, event.run_id, (event.task_id, event.map_index), event.try_number
        )
        if task is None:
            return
        existing = task.values.get(event.key)
        if existing is not None and existing.value == event.value:
            return
        self._sequence += 1
        task.values[event.key] = _XCom(event.value, self._sequence)

    def _drop_older_tries(
        self, dag_id: str, run_id: str, task_key: TaskKey, try_number: int
    ) -> _TaskXComs | None:
        """A new try of a task drops the XComs of its earlier tries (Airflow clears them on start)."""
        if (dag_id, run_id) in self._evicted:
            return None
        xcoms = self._run(dag_id, run_id).xcoms
        task = xcoms.get(task_key)
        if task is None or task.try_number < try_number:
            task = xcoms[task_key] = _TaskXComs(try_number)
        elif task.try_number > try_number:
            return None
        return task

    def _prior_runs(self, dag_id: str, run: _Run | None) -> list[_Run]:
        if run is None or run.logical_date is None:
            return []
        current = run.logical_date
        earlier = [
            r
            for (d, _), r in self._runs.items()
            if d == dag_id and r.logical_date is not None and r.logical_date < current
        ]
        return sorted(earlier, key=lambda r: r.logical_date or current, reverse=True)


def _task_value(run: _Run, task_id: str, key: str) -> str | None:
    unmapped = run.xcoms.get((task_id, -1))
    if unmapped is not None and key in unmapped.values:
        return unmapped.values[key].value
    mapped = sorted(
        (index, t.values[key].value)
        for (tid, index), t in run.xcoms.items()
        if tid == task_id and index >= 0 and key in t.values
    )
    if not mapped:
        return None
    return "[" + ",".join(value for _, value in mapped) + "]"
