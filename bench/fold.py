"""How fast the scheduler folds its log, and what one decide costs with many active runs.

Generates a realistic synthetic history — DAGs of ten tasks, runs created and started, every task
instance scheduled, queued, started, heart-beating, pushing an XCom and finishing (some through a
retry) — as log Records, folds it into a fresh SchedulerState and prints events per second
(target >= 200k/s). Then builds a state with 1,000 running runs and times decide: once with every
run touched (a restart), and in steady state where a few task results arrive between calls.

    .venv/bin/python bench/fold.py [--events 1000000] [--active-runs 1000]
"""

from __future__ import annotations

import argparse
import gc
import statistics
import time
from collections import defaultdict
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

from couture_common.dagspec import DagSpec, ScheduleSpec, TaskSpec
from couture_common.eventlog.port import Record, partition_for
from couture_common.events import (
    DagParsed,
    DagPausedSet,
    DagRunCreated,
    DagRunFinished,
    DagRunStarted,
    Envelope,
    Event,
    PoolSet,
    TaskHeartbeat,
    TaskInstanceFinished,
    TaskInstanceQueued,
    TaskInstanceScheduled,
    TaskInstanceStarted,
    XComPushed,
)
from couture_common.events.run import TryOutcome
from couture_common.topics import TOPICS
from couture_scheduler.domain import SchedulerPolicy, SchedulerState, apply, decide

T0 = datetime(2024, 1, 1, tzinfo=UTC)
TASKS = 10
DAGS = 20


def dag_spec(dag_id: str) -> DagSpec:
    """extract -> 8 parallel transforms -> load: fan-out and fan-in, like most ETL DAGs."""
    transforms = [
        TaskSpec(
            task_id=f"transform_{i}",
            operator="PythonOperator",
            upstream=("extract",),
            retries=1,
            retry_delay=0,
        )
        for i in range(TASKS - 2)
    ]
    return DagSpec(
        dag_id=dag_id,
        fileloc=f"/dags/{dag_id}.py",
        schedule=ScheduleSpec(kind="none"),
        tasks=(
            TaskSpec(task_id="extract", operator="BashOperator"),
            *transforms,
            TaskSpec(task_id="load", operator="BashOperator", upstream=tuple(t.task_id for t in transforms)),
        ),
        max_active_runs=100_000,
        max_active_tasks=100_000,
    )


class Stamper:
    """Turns events into Records with the offsets and partitions a log would give them."""

    def __init__(self) -> None:
        self.next_offset: dict[tuple[str, int], int] = defaultdict(int)
        self.count = 0

    def __call__(self, event: Event, time: datetime) -> Record:
        key = event.partition_key()
        topic = event.TOPIC
        partition = partition_for(key, TOPICS[topic].partitions)
        offset = self.next_offset[(topic, partition)]
        self.next_offset[(topic, partition)] = offset + 1
        self.count += 1
        env = Envelope(
            id=f"{self.count:012d}",
            type=event.TYPE,
            version=event.VERSION,
            time=time,
            key=key,
            actor="bench",
            payload=event,
        )
        return Record(topic, partition, offset, env)


def run_history(
    dag_id: str, run_no: int, start: datetime, *, finish: bool = True
) -> Iterator[tuple[Event, datetime]]:
    """One run's life; every tenth run's first transform fails once and is retried."""
    run_id = f"manual__{run_no}"
    yield (
        DagRunCreated(
            dag_id=dag_id,
            run_id=run_id,
            run_type="manual",
            logical_date=start,
            data_interval_start=start,
            data_interval_end=start,
            dag_version="v1",
        ),
        start,
    )
    yield DagRunStarted(dag_id=dag_id, run_id=run_id), start
    now = start
    for task_id in ["extract", *(f"transform_{i}" for i in range(TASKS - 2)), "load"]:
        retry = task_id == "transform_0" and run_no % 10 == 0
        for n in (1, 2) if retry else (1,):
            yield TaskInstanceScheduled(dag_id=dag_id, run_id=run_id, task_id=task_id, try_number=n), now
            max_tries = 1 if task_id.startswith("transform") else 0
            yield (
                TaskInstanceQueued(
                    dag_id=dag_id, run_id=run_id, task_id=task_id, try_number=n, max_tries=max_tries
                ),
                now,
            )
            yield (
                TaskInstanceStarted(
                    dag_id=dag_id,
                    run_id=run_id,
                    task_id=task_id,
                    try_number=n,
                    hostname="w1",
                    pid=42,
                    executor_id="e1",
                    start_date=now,
                ),
                now,
            )
            for beat in range(2):
                at = now + timedelta(seconds=5 * (beat + 1))
                yield (
                    TaskHeartbeat(
                        dag_id=dag_id,
                        run_id=run_id,
                        task_id=task_id,
                        try_number=n,
                        executor_id="e1",
                        pid=42,
                        at=at,
                    ),
                    at,
                )
            now += timedelta(seconds=12)
            if not retry or n == 2:
                yield (
                    XComPushed(
                        dag_id=dag_id,
                        run_id=run_id,
                        task_id=task_id,
                        try_number=n,
                        key="return_value",
                        value='"ok"',
                    ),
                    now,
                )
            state: TryOutcome = "up_for_retry" if retry and n == 1 else "success"
            yield (
                TaskInstanceFinished(
                    dag_id=dag_id,
                    run_id=run_id,
                    task_id=task_id,
                    try_number=n,
                    state=state,
                    end_date=now,
                    start_date=now,
                ),
                now,
            )
    if finish:
        yield DagRunFinished(dag_id=dag_id, run_id=run_id, state="success"), now


def history(events: int) -> list[Record]:
    stamp = Stamper()
    records = []
    for d in range(DAGS):
        dag_id = f"dag_{d}"
        records.append(stamp(DagParsed(dag_id=dag_id, version="v1", spec=dag_spec(dag_id)), T0))
        records.append(stamp(DagPausedSet(dag_id=dag_id, is_paused=False), T0))
    run_no = 0
    while len(records) < events:
        start = T0 + timedelta(minutes=run_no)
        for event, at in run_history(f"dag_{run_no % DAGS}", run_no, start):
            records.append(stamp(event, at))
        run_no += 1
    return records[:events]


def bench_fold(events: int) -> None:
    print(f"generating {events:,} events ...", flush=True)
    records = history(events)
    gc.collect()
    gc.freeze()
    rates = []
    for _ in range(3):
        state = SchedulerState()
        began = time.perf_counter()
        for record in records:
            apply(state, record)
        rates.append(len(records) / (time.perf_counter() - began))
    runs = sum(len(d.runs) for d in state.dags.values())
    print(
        f"fold: {statistics.median(rates):,.0f} events/s (best {max(rates):,.0f}; {runs:,} runs, "
        f"{state.ignored} ignored) — target 200,000"
    )


def bench_decide(active_runs: int) -> None:
    """Runs mid-flight: extract done, eight transforms running with current heartbeats, load waiting."""
    stamp = Stamper()
    state = SchedulerState()
    apply(state, stamp(PoolSet(name="default_pool", slots=100_000), T0))
    for d in range(DAGS):
        dag_id = f"dag_{d}"
        apply(state, stamp(DagParsed(dag_id=dag_id, version="v1", spec=dag_spec(dag_id)), T0))
        apply(state, stamp(DagPausedSet(dag_id=dag_id, is_paused=False), T0))
    for run_no in range(active_runs):
        for event, at in run_history(f"dag_{run_no % DAGS}", run_no, T0, finish=False):
            if event.TYPE in ("ti.finished", "xcom.pushed") and getattr(event, "task_id", "") != "extract":
                continue
            if getattr(event, "task_id", "") != "load":
                apply(state, stamp(event, at))
    now = T0 + timedelta(minutes=10)
    policy = SchedulerPolicy(zombie_threshold=3600)
    began = time.perf_counter()
    out = decide(state, now, policy)
    full = time.perf_counter() - began
    for event in out:
        apply(state, stamp(event, now))
    running = len(state.running)
    steady = []
    transforms = [(run_no, i) for run_no in range(active_runs) for i in range(TASKS - 2)]
    for n, (run_no, i) in enumerate(transforms[: 8 * 250]):
        dag_id, run_id = f"dag_{run_no % DAGS}", f"manual__{run_no}"
        try_number = state.run(dag_id, run_id).tis[f"transform_{i}"].try_number  # type: ignore[union-attr]
        result = TaskInstanceFinished(
            dag_id=dag_id,
            run_id=run_id,
            task_id=f"transform_{i}",
            try_number=try_number,
            state="success",
            end_date=now,
        )
        apply(state, stamp(result, now))
        began = time.perf_counter()
        out = decide(state, now + timedelta(milliseconds=n), policy)
        steady.append(time.perf_counter() - began)
        for event in out:
            apply(state, stamp(event, now))
    print(
        f"decide with {active_runs:,} active runs ({running:,} tries running): "
        f"{full * 1000:.1f} ms with every run touched (a restart); "
        f"{statistics.median(steady) * 1000:.2f} ms median, "
        f"{sorted(steady)[int(len(steady) * 0.99)] * 1000:.2f} ms p99 per call "
        "with one task result between calls"
    )


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--events", type=int, default=1_000_000)
    parser.add_argument("--active-runs", type=int, default=1_000)
    args = parser.parse_args()
    bench_fold(args.events)
    bench_decide(args.active_runs)


if __name__ == "__main__":
    main()
