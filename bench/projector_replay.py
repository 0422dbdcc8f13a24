"""How fast the projector replays the event log into the read models.

    .venv/bin/python bench/projector_replay.py [--events 200000] [--batch-size N] [--dags 50]
        [--pipelined auto|on|off] [--workers N] [--profile]

Appends a realistic history (DAG parses, variables, scheduled runs of 5-task DAGs: every try
scheduled, queued, started, pushing an XCom and finishing, one try in ten retried, a few manual
triggers) to a Kafka event log in a namespace of its own when ``COUTURE_KAFKA_BOOTSTRAP`` is set
(``eval "$(deploy/local/services up)"``), then to a fresh SQLite one. For each log it prints:
* the log's own read rate (a consumer reading every record, decoding included), the ceiling;
* ``rebuild`` events/s: drop the read models and replay from offset 0, as an operator would, into
  SQLite read models, and into a new PostgreSQL database when ``COUTURE_DATABASE_URL_POSTGRES``
  is set (dropped afterwards), there once in one process and once in parallel
  (``--workers``, default: rebuild's own, one process per CPU). The first parallel rebuild
  starts the workers' fork server cold, as ``couture projections rebuild`` does; later ones
  find it running (the output says which);
* the CPU it took: this process's, and the whole machine's (worker processes, PostgreSQL and the
  broker included: on a machine of few cores the wall time cannot fall below it / cores);
* for one process, how much of the replay is reading the log, and how much folding and SQL.

``--profile`` runs each rebuild under cProfile and prints where the main thread spent its time
(the databases' own work runs in their driver's thread or server: it shows as waiting in epoll).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import cProfile
import os
import pstats
import tempfile
import time
import uuid
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import asyncpg
import sqlalchemy as sa
from aiokafka.admin import AIOKafkaAdminClient

from couture_common.dagspec import DagSpec, ScheduleSpec, TaskSpec
from couture_common.eventlog import EventLog
from couture_common.eventlog.kafka import KafkaEventLog
from couture_common.eventlog.sqlite import SqliteEventLog
from couture_common.events import (
    DagFileProcessed,
    DagParsed,
    DagRunCreated,
    DagRunFinished,
    DagRunRequested,
    DagRunStarted,
    Envelope,
    Event,
    TaskInstanceFinished,
    TaskInstanceQueued,
    TaskInstanceScheduled,
    TaskInstanceStarted,
    VariableSet,
    XComPushed,
    envelope,
)
from couture_common.events.run import TryOutcome
from couture_gateway.readmodels.migrations import open_readmodels
from couture_gateway.readmodels.positions import PROJECTED_TOPICS
from couture_gateway.readmodels.rebuild import rebuild

T0 = datetime(2024, 1, 1, tzinfo=UTC)
TASKS = ("extract", "clean", "transform", "load", "report")


class History:
    def __init__(self) -> None:
        self.now = T0
        self.count = 0

    def at(self, payload: Event, actor: str = "service:scheduler") -> Envelope:
        self.now += timedelta(milliseconds=20)
        self.count += 1
        return envelope(payload, actor=actor, time=self.now)

    def batches(self, events: int, dags: int) -> Iterator[list[Envelope]]:
        for d in range(dags):
            spec = DagSpec(
                dag_id=f"dag_{d:03}",
                fileloc=f"/dags/dag_{d:03}.py",
                schedule=ScheduleSpec(kind="cron", cron="0 * * * *", display="@hourly"),
                tasks=tuple(
                    TaskSpec(
                        task_id=t, operator="BashOperator", upstream=(TASKS[i - 1],) if i else (), retries=1
                    )
                    for i, t in enumerate(TASKS)
                ),
                start_date=T0,
                tags=("bench",),
            )
            yield [
                self.at(DagParsed(dag_id=spec.dag_id, version="v1", spec=spec), "service:registry"),
                self.at(
                    DagFileProcessed(fileloc=spec.fileloc, version="v1", dag_ids=(spec.dag_id,)),
                    "service:registry",
                ),
            ]
        yield [self.at(VariableSet(key=f"var_{i}", value="gAAAA-token"), "user:alice") for i in range(20)]
        hour = 0
        while self.count < events:
            logical = T0 + timedelta(hours=hour)
            for d in range(dags):
                if self.count >= events:
                    return
                yield list(self._run(f"dag_{d:03}", logical, manual=(hour + d) % 25 == 0))
            hour += 1

    def _run(self, dag_id: str, logical: datetime, manual: bool) -> Iterator[Envelope]:
        run_id = f"{'manual' if manual else 'scheduled'}__{logical.isoformat()}"
        if manual:
            yield self.at(DagRunRequested(dag_id=dag_id, run_id=run_id, logical_date=logical), "user:bob")
        yield self.at(
            DagRunCreated(
                dag_id=dag_id,
                run_id=run_id,
                run_type="manual" if manual else "scheduled",
                logical_date=logical,
                data_interval_start=logical,
                data_interval_end=logical + timedelta(hours=1),
                dag_version="v1",
            )
        )
        yield self.at(DagRunStarted(dag_id=dag_id, run_id=run_id))
        for i, task_id in enumerate(TASKS):
            tries = 2 if (self.count + i) % 10 == 0 else 1
            for number in range(1, tries + 1):
                key: dict[str, Any] = {
                    "dag_id": dag_id,
                    "run_id": run_id,
                    "task_id": task_id,
                    "try_number": number,
                }
                start = self.now
                yield self.at(TaskInstanceScheduled(**key))
                yield self.at(TaskInstanceQueued(**key, max_tries=1))
                yield self.at(
                    TaskInstanceStarted(
                        **key, hostname="worker-1", pid=1000, executor_id="x1", start_date=start
                    ),
                    "service:executor",
                )
                yield self.at(
                    XComPushed(**key, key="return_value", value='{"rows": 1000}'), "service:executor"
                )
                outcome: TryOutcome = "success" if number == tries else "up_for_retry"
                yield self.at(
                    TaskInstanceFinished(**key, state=outcome, start_date=start, end_date=self.now),
                    "service:executor",
                )
        yield self.at(DagRunFinished(dag_id=dag_id, run_id=run_id, state="success"))


async def read_rate(log: EventLog, batch_size: int) -> tuple[int, float]:
    """Records and seconds for one consumer reading every projected topic from offset 0."""
    total = sum([sum((await log.end_offsets(topic)).values()) for topic in PROJECTED_TOPICS])
    consumer = log.consumer(list(PROJECTED_TOPICS))
    start, count = time.perf_counter(), 0
    while count < total:
        count += len(await consumer.poll(batch_size, timeout=5))
    elapsed = time.perf_counter() - start
    await consumer.close()
    return count, elapsed


@contextlib.asynccontextmanager
async def kafka_namespace(bootstrap: str) -> AsyncIterator[str]:
    """A fresh topic prefix on the broker; its topics are deleted afterwards."""
    namespace = f"bench-{uuid.uuid4().hex[:8]}."
    try:
        yield namespace
    finally:
        await drop_namespace(bootstrap, namespace)


async def drop_namespace(bootstrap: str, namespace: str) -> None:
    """Delete the topics of a benchmark's namespace."""
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
    await admin.start()
    try:
        ours = [name for name in await admin.list_topics() if name.startswith(namespace)]
        if ours:
            await admin.delete_topics(ours)
    finally:
        await admin.close()


@contextlib.asynccontextmanager
async def postgres_database(server_url: str) -> AsyncIterator[str]:
    """The URL of a new, empty database on the server of ``server_url``, dropped afterwards."""
    server = sa.make_url(server_url)
    admin_dsn = server.set(drivername="postgresql").render_as_string(hide_password=False)
    name = f"couture_bench_{uuid.uuid4().hex[:12]}"
    admin = await asyncpg.connect(admin_dsn)
    try:
        await admin.execute(f'CREATE DATABASE "{name}"')
    finally:
        await admin.close()
    try:
        yield server.set(database=name).render_as_string(hide_password=False)
    finally:
        admin = await asyncpg.connect(admin_dsn)
        try:
            for attempt in range(20):
                try:
                    await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
                    break
                except asyncpg.InsufficientPrivilegeError:
                    # An autovacuum worker on the new tables, which FORCE may not end: it soon stops.
                    if attempt == 19:
                        raise
                    await asyncio.sleep(0.5)
        finally:
            await admin.close()


#: Parallel rebuilds measured so far in this process.
_PARALLEL_RUNS: list[str] = []


def machine_cpu_seconds() -> float:
    """CPU time every process of this machine used since boot (Linux ``/proc/stat``)."""
    with open("/proc/stat") as stat:
        ticks = [int(field) for field in stat.readline().split()[1:]]
    idle, iowait = ticks[3], ticks[4]
    return (sum(ticks) - idle - iowait) / os.sysconf("SC_CLK_TCK")


async def measure_rebuild(
    log: EventLog,
    url: str,
    target: str,
    args: argparse.Namespace,
    read: tuple[int, float],
    workers: int | None = 1,
) -> None:
    engine = await open_readmodels(url)
    profiler = cProfile.Profile() if args.profile else None
    try:
        options: dict[str, Any] = {"pipelined": {"on": True, "off": False}.get(args.pipelined)}
        if args.batch_size is not None:
            options["batch_size"] = args.batch_size
        start, cpu_start, machine_start = time.perf_counter(), time.process_time(), machine_cpu_seconds()
        if profiler is not None:
            profiler.enable()
        replayed = await rebuild(engine, log, workers=workers, **options)
        if profiler is not None:
            profiler.disable()
        elapsed, cpu = time.perf_counter() - start, time.process_time() - cpu_start
        machine = machine_cpu_seconds() - machine_start
    finally:
        await engine.dispose()
    rate = replayed / elapsed
    shown = "rebuild's default" if workers is None else workers
    if workers != 1:
        # The workers' fork server starts with the first parallel rebuild and serves the next ones.
        shown = f"{shown}, fork server {'already running' if _PARALLEL_RUNS else 'started cold'}"
        _PARALLEL_RUNS.append(target)
    print(
        f"  rebuild into {target} (pipelined: {args.pipelined}, workers: {shown}): "
        f"{replayed:,} events in {elapsed:.2f} s = {rate:,.0f} events/s"
    )
    # CPU time of all this process's threads: what the figure would be on an idle core.
    print(
        f"    CPU {cpu:.2f} s = {replayed / cpu:,.0f} events per CPU-second of this process; "
        f"machine {machine:.2f} CPU-s over {os.cpu_count()} cores"
    )
    if workers == 1:
        # One process reads, folds and writes in turn: the share of each is meaningful.
        count, read_seconds = read
        reading = replayed * read_seconds / count
        print(
            f"    of which reading the log ~{reading:.2f} s; folding and SQL "
            f"{elapsed - reading:.2f} s = {(elapsed - reading) / replayed * 1e6:.1f} us/event"
        )
    if profiler is not None:
        pstats.Stats(profiler).sort_stats("tottime").print_stats(25)


async def measure(
    name: str, log: EventLog, history: History, args: argparse.Namespace, postgres: str | None
) -> None:
    start = time.perf_counter()
    for batch in history.batches(args.events, args.dags):
        await log.append(batch)
    print(f"{name} event log: appended {history.count:,} events in {time.perf_counter() - start:.1f} s")
    read = await read_rate(log, args.batch_size or 2000)
    print(f"  log read (poll + decode, no projection): {read[0] / read[1]:,.0f} events/s")
    with tempfile.TemporaryDirectory(prefix="couture-bench-") as tmp:
        sqlite_url = f"sqlite+aiosqlite:///{Path(tmp) / 'readmodels.db'}"
        await measure_rebuild(log, sqlite_url, "SQLite", args, read)
    if postgres:
        for workers in (1, args.workers):
            async with postgres_database(postgres) as url:
                await measure_rebuild(log, url, "PostgreSQL", args, read, workers)


async def main(args: argparse.Namespace) -> None:
    postgres = os.environ.get("COUTURE_DATABASE_URL_POSTGRES")
    bootstrap = os.environ.get("COUTURE_KAFKA_BOOTSTRAP")
    # Kafka first: replay from the topic is the figure that matters, measured with a cold start.
    if bootstrap:
        async with (
            kafka_namespace(bootstrap) as namespace,
            KafkaEventLog(bootstrap, namespace=namespace) as log,
        ):
            await measure("Kafka", log, History(), args, postgres)
    with tempfile.TemporaryDirectory(prefix="couture-bench-") as tmp:
        async with SqliteEventLog(Path(tmp) / "events.db", sync="normal") as log:
            await measure("SQLite", log, History(), args, postgres)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--events", type=int, default=200_000, help="events in the history (default 200000)")
    parser.add_argument(
        "--batch-size", type=int, default=None, help="records per projector poll (default: rebuild's own)"
    )
    parser.add_argument("--dags", type=int, default=50, help="DAGs in the history (default 50)")
    parser.add_argument(
        "--pipelined",
        choices=("auto", "on", "off"),
        default="auto",
        help="fold each batch while the previous one is written (default: rebuild's choice per database)",
    )
    parser.add_argument(
        "--workers",
        type=int,
        default=None,
        help="processes of the parallel PostgreSQL rebuild (default: rebuild's own, one per CPU)",
    )
    parser.add_argument("--profile", action="store_true", help="profile each rebuild (cProfile, main thread)")
    asyncio.run(main(parser.parse_args()))
