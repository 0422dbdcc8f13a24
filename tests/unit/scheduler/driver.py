"""A small pure test driver: an in-memory log that folds what it is given, and a simulated executor.

Events are stamped as the real log would (topic, partition by key, growing offsets) with
deterministic envelope ids, so recorded histories are byte-stable.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any, TypeVar

from couture_common.dagspec import DagSpec, ScheduleSpec, TaskSpec
from couture_common.eventlog.port import Record, partition_for
from couture_common.events import (
    DagParsed,
    DagPausedSet,
    DagRunRequested,
    Event,
    ExecuteTask,
    TaskInstanceFinished,
    TaskInstanceStarted,
    envelope,
)
from couture_common.events.run import TryOutcome
from couture_common.topics import POOL, TOPICS
from couture_scheduler.domain import SchedulerPolicy, SchedulerState, apply, decide

T0 = datetime(2024, 1, 1, tzinfo=UTC)
E = TypeVar("E", bound=Event)


def at(minutes: float = 0, *, days: float = 0) -> datetime:
    return T0 + timedelta(days=days, minutes=minutes)


def task(task_id: str, *upstream: str, **fields: Any) -> TaskSpec:
    return TaskSpec(
        task_id=task_id, operator=fields.pop("operator", "BashOperator"), upstream=upstream, **fields
    )


def dag_spec(dag_id: str, *tasks: TaskSpec, schedule: ScheduleSpec | None = None, **fields: Any) -> DagSpec:
    return DagSpec(
        dag_id=dag_id,
        fileloc=f"/dags/{dag_id}.py",
        schedule=schedule or ScheduleSpec(kind="none"),
        tasks=tasks,
        **fields,
    )


DAILY = ScheduleSpec(kind="cron", cron="0 0 * * *", display="@daily")


class Log:
    """The scheduler's view of the log: every appended event is folded at once."""

    def __init__(self, policy: SchedulerPolicy | None = None) -> None:
        self.state = SchedulerState()
        self.policy = policy or SchedulerPolicy()
        self.records: list[Record] = []
        self._next_offset: dict[tuple[str, int], int] = {}

    def append(self, events: Iterable[Event], time: datetime) -> list[Record]:
        stamped = []
        for event in events:
            env = envelope(event, actor="test", time=time, id=f"evt-{len(self.records):06d}")
            topic = event.TOPIC
            partition = partition_for(env.key, TOPICS[topic].partitions)
            offset = self._next_offset.get((topic, partition), 0)
            self._next_offset[(topic, partition)] = offset + 1
            record = Record(topic, partition, offset, env)
            self.records.append(record)
            stamped.append(record)
            apply(self.state, record)
        return stamped

    def given(self, *events: Event, time: datetime = T0) -> None:
        self.append(events, time)

    def decide(self, now: datetime) -> list[Event]:
        out = decide(self.state, now, self.policy)
        self.append(out, now)
        return out

    def settle(self, now: datetime, *, rounds: int = 20) -> list[Event]:
        """Decide and fold until nothing more is decided at ``now``; everything decided, in order."""
        everything: list[Event] = []
        for _ in range(rounds):
            out = self.decide(now)
            if not out:
                return everything
            everything.extend(out)
        raise AssertionError(f"decide kept emitting at {now}: {everything[-5:]}")

    def ti_state(self, dag_id: str, run_id: str, task_id: str) -> str | None:
        run = self.state.run(dag_id, run_id)
        assert run is not None, f"no run {run_id}"
        return run.tis[task_id].state


def parsed(spec: DagSpec, *, version: str = "v1", paused: bool = False) -> list[Event]:
    events: list[Event] = [DagParsed(dag_id=spec.dag_id, version=version, spec=spec)]
    if not paused:
        events.append(DagPausedSet(dag_id=spec.dag_id, is_paused=False))
    return events


def trigger(
    dag_id: str, run_id: str = "manual_1", logical_date: datetime = T0, **fields: Any
) -> DagRunRequested:
    return DagRunRequested(dag_id=dag_id, run_id=run_id, logical_date=logical_date, **fields)


def of_type(events: Sequence[Event], kind: type[E]) -> list[E]:
    return [e for e in events if isinstance(e, kind)]


def of_types(events: Sequence[Event], *kinds: type[Event]) -> list[Event]:
    return [e for e in events if isinstance(e, kinds)]


def summary(events: Sequence[Event]) -> list[tuple[str, ...]]:
    """Events as short tuples a test can compare: (type, task or run, state/try).

    Pool slot traffic (the ``pool`` topic) is left out: tests/unit/scheduler/test_pools.py checks it.
    """
    rows: list[tuple[str, ...]] = []
    for e in events:
        if e.TOPIC == POOL:
            continue
        task_id = getattr(e, "task_id", None)
        state = getattr(e, "state", None)
        try_number = getattr(e, "try_number", None)
        row: tuple[str, ...] = (e.TYPE, str(task_id or getattr(e, "run_id", "")))
        if state is not None:
            row += (str(state),)
        elif try_number is not None:
            row += (str(try_number),)
        rows.append(row)
    return rows


Outcome = Callable[[ExecuteTask], TaskInstanceFinished | None]


def started(cmd: ExecuteTask, when: datetime) -> TaskInstanceStarted:
    return TaskInstanceStarted(
        dag_id=cmd.dag_id,
        run_id=cmd.run_id,
        task_id=cmd.task_id,
        try_number=cmd.try_number,
        hostname="worker-1",
        pid=1000 + cmd.try_number,
        executor_id="executor-1",
        start_date=when,
    )


def finished(cmd: ExecuteTask, state: TryOutcome, when: datetime, **fields: Any) -> TaskInstanceFinished:
    return TaskInstanceFinished(
        dag_id=cmd.dag_id,
        run_id=cmd.run_id,
        task_id=cmd.task_id,
        try_number=cmd.try_number,
        state=state,
        end_date=when,
        start_date=when,
        **fields,
    )


class Executor:
    """Runs every ExecuteTask it is handed: started at once, finished one minute later.

    ``script`` maps a task id to the outcome of each try in turn (``success`` when absent);
    a failed try with tries left reports ``up_for_retry`` like the real executor does, and a
    ``hang`` try starts but never reports again (a worker lost mid-try).
    """

    def __init__(self, log: Log, script: dict[str, list[str]] | None = None, **extra: dict[str, Any]) -> None:
        self.log = log
        self.script = script or {}
        self.extra = extra

    def work(self, commands: Iterable[Event], now: datetime) -> None:
        for cmd in commands:
            if not isinstance(cmd, ExecuteTask):
                continue
            outcomes = self.script.get(cmd.task_id, [])
            scripted = outcomes[cmd.try_number - 1] if cmd.try_number <= len(outcomes) else "success"
            self.log.append([started(cmd, now)], now)
            if scripted == "hang":
                continue
            outcome: TryOutcome = "success"
            if scripted == "skipped":
                outcome = "skipped"
            elif scripted == "failed":
                outcome = "up_for_retry" if cmd.try_number <= cmd.max_tries else "failed"
            done = now + timedelta(minutes=1)
            self.log.append([finished(cmd, outcome, done, **self.extra.get(cmd.task_id, {}))], done)


def run_scenario(
    log: Log,
    executor: Executor,
    start: datetime,
    *,
    steps: int,
    step: timedelta,
    interventions: dict[int, list[Event]] | None = None,
) -> datetime:
    """Alternate decide and the executor for ``steps`` ticks of ``step``; returns the last tick.

    ``interventions`` are events (user actions) appended at the start of the numbered tick.
    """
    now = start
    for tick in range(steps):
        log.append((interventions or {}).get(tick, []), now)
        for _ in range(50):
            out = log.decide(now)
            if not out:
                break
            executor.work(out, now)
        now += step
    return now - step
