"""Engine benchmarks on the standalone deployment (SQLite log, real scheduler and executor).

    python bench/engine.py [--chain 100] [--parallel 1000] [--triggers 20] [--sync full|normal]

Prints:
* inter-task latency p50/p99 in a chain of no-op PythonOperator tasks: from the upstream try's end
  (its TaskInstanceFinished.end_date) to the downstream try's start (TaskInstanceStarted.start_date);
* trigger -> first task start p50/p99: from the DagRunRequested event's time to the first start;
* no-op tasks completed per second with N independent tasks in one run.
Every figure comes from the events themselves, so it measures the product, not the harness.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

from couture_common.eventlog.port import EventLog, Record, TopicPartition
from couture_common.events import (
    DagPausedSet,
    DagRunFinished,
    DagRunRequested,
    PoolSet,
    TaskInstanceFinished,
    TaskInstanceStarted,
    envelope,
)
from couture_common.settings import Settings
from couture_common.topics import RUN
from couture_standalone.engine import Engine

CHAIN_DAG = """
from datetime import datetime
from airflow import DAG
from airflow.operators.python import PythonOperator

def noop():
    pass

with DAG("bench_chain", start_date=datetime(2024, 1, 1), schedule=None, max_active_tasks=1000) as dag:
    previous = None
    for i in range({n}):
        task = PythonOperator(task_id=f"t{{i:04d}}", python_callable=noop, do_xcom_push=False)
        if previous is not None:
            previous >> task
        previous = task
"""

FAN_DAG = """
from datetime import datetime
from airflow import DAG
from airflow.operators.python import PythonOperator

def noop():
    pass

with DAG("bench_fan", start_date=datetime(2024, 1, 1), schedule=None, max_active_tasks={n}) as dag:
    for i in range({n}):
        PythonOperator(task_id=f"t{{i:04d}}", python_callable=noop, do_xcom_push=False, pool="bench")
"""

FIRST_DAG = """
from datetime import datetime
from airflow import DAG
from airflow.operators.python import PythonOperator

with DAG("bench_first", start_date=datetime(2024, 1, 1), schedule=None, max_active_runs=1000) as dag:
    PythonOperator(task_id="only", python_callable=lambda: None, do_xcom_push=False)
"""


#: The DAG files the benchmarks run, by dag_id; ``{n}`` is the chain's or the fan's width.
DAG_SOURCES = {"bench_chain": CHAIN_DAG, "bench_fan": FAN_DAG, "bench_first": FIRST_DAG}


def write_bench_dags(folder: Path, *, chain: int, parallel: int) -> None:
    widths = {"bench_chain": chain, "bench_fan": parallel, "bench_first": 1}
    for dag_id, source in DAG_SOURCES.items():
        (folder / f"{dag_id}.py").write_text(source.format(n=widths[dag_id]))


async def open_bench_dags(log: EventLog, parallel: int) -> None:
    """Unpause the benchmark DAGs and give the fan's pool a slot per task."""
    await log.append(
        [
            envelope(PoolSet(name="bench", slots=parallel), actor="bench"),
            *(envelope(DagPausedSet(dag_id=d, is_paused=False), actor="bench") for d in DAG_SOURCES),
        ]
    )


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, round(q / 100 * (len(ordered) - 1))))
    return ordered[index]


async def run_dag(log: EventLog, dag_id: str, run_id: str, timeout: float) -> list[Record]:
    """Trigger one run and return every run-topic record of it up to DagRunFinished."""
    ends = await log.end_offsets(RUN)
    consumer = log.consumer([RUN])
    for partition, end in ends.items():
        consumer.seek(TopicPartition(RUN, partition), end)
    request = DagRunRequested(dag_id=dag_id, run_id=run_id, logical_date=datetime.now(UTC))
    await log.append([envelope(request, actor="bench")])
    records: list[Record] = []
    try:
        async with asyncio.timeout(timeout):
            while True:
                for record in await consumer.poll(5000, timeout=None):
                    event = record.envelope.payload
                    if getattr(event, "run_id", None) != run_id:
                        continue
                    records.append(record)
                    if isinstance(event, DagRunFinished):
                        if event.state != "success":
                            raise SystemExit(f"{dag_id} run ended {event.state}")
                        return records
    finally:
        await consumer.close()


def starts_and_ends(records: list[Record]) -> tuple[dict[str, datetime], dict[str, datetime]]:
    starts: dict[str, datetime] = {}
    ends: dict[str, datetime] = {}
    for record in records:
        event = record.envelope.payload
        if isinstance(event, TaskInstanceStarted):
            starts[event.task_id] = event.start_date
        elif isinstance(event, TaskInstanceFinished):
            ends[event.task_id] = event.end_date
    return starts, ends


async def bench_chain(log: EventLog, n: int) -> list[Record]:
    records = await run_dag(log, "bench_chain", "chain_1", timeout=300)
    starts, ends = starts_and_ends(records)
    gaps = [(starts[f"t{i:04d}"] - ends[f"t{i - 1:04d}"]).total_seconds() * 1000 for i in range(1, n)]
    total = (ends[f"t{n - 1:04d}"] - starts["t0000"]).total_seconds()
    print(
        f"chain of {n} no-op tasks: inter-task latency p50 {percentile(gaps, 50):.1f} ms, "
        f"p99 {percentile(gaps, 99):.1f} ms, max {max(gaps):.1f} ms; whole chain {total:.2f} s"
    )
    return records


async def bench_first_start(log: EventLog, triggers: int) -> None:
    delays = []
    for i in range(triggers):
        records = await run_dag(log, "bench_first", f"first_{i}", timeout=60)
        requested = records[0].envelope.time
        starts, _ = starts_and_ends(records)
        delays.append((starts["only"] - requested).total_seconds() * 1000)
    print(
        f"trigger -> first task start ({triggers} runs): p50 {percentile(delays, 50):.1f} ms, "
        f"p99 {percentile(delays, 99):.1f} ms"
    )


async def bench_parallel(log: EventLog, n: int, run_id: str = "fan_1") -> None:
    started = time.monotonic()
    records = await run_dag(log, "bench_fan", run_id, timeout=600)
    wall = time.monotonic() - started
    starts, ends = starts_and_ends(records)
    span = (max(ends.values()) - min(starts.values())).total_seconds()
    print(
        f"{n} independent no-op tasks: {n / span:.0f} tasks/s (first start to last end {span:.2f} s; "
        f"trigger to run finished {wall:.2f} s, {n / wall:.0f} tasks/s)"
    )


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    parser.add_argument("--chain", type=int, default=100)
    parser.add_argument("--parallel", type=int, default=1000)
    parser.add_argument("--triggers", type=int, default=20)
    parser.add_argument("--slots", type=int, default=64, help="executor slots")
    parser.add_argument("--sync", choices=("full", "normal"), default="full")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="couture-bench-") as tmp:
        home = Path(tmp)
        dags = home / "dags"
        dags.mkdir()
        write_bench_dags(dags, chain=args.chain, parallel=args.parallel)
        settings = Settings(home=home, executor_slots=args.slots, log_sync=args.sync)
        print(f"sync={args.sync} executor_slots={args.slots} python={sys.version.split()[0]}")
        async with Engine(settings, watch_dags=False, project=False) as engine:
            await engine.registry.idle()
            await engine.scheduler.wait_caught_up()
            await open_bench_dags(engine.log, args.parallel)
            await asyncio.sleep(0.2)
            await bench_chain(engine.log, args.chain)
            await bench_first_start(engine.log, args.triggers)
            await bench_parallel(engine.log, args.parallel)


if __name__ == "__main__":
    asyncio.run(main())
