"""How fast the executor runs no-op PythonOperator tries on the standalone (SQLite) log.

Prints the p50/p90 latency of one try, from the executor's consumer handing it the ExecuteTask to
its TaskInstanceFinished being appended (and, for comparison, from the command's own append), with
tries sent one at a time; then how many no-op tries per second one executor with 32 slots finishes
when a batch is queued at once. The executor runs on the real SQLite log, seen through a wrapper
that only notes the time of those two moments.

    .venv/bin/python bench/executor_noop.py [--tries 200] [--batch 2000] [--sync normal|full]
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import statistics
import tempfile
import time
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from pathlib import Path

from cryptography.fernet import Fernet

from couture_common.eventlog import Consumer, Record, TopicPartition
from couture_common.eventlog.port import RevokedListener
from couture_common.eventlog.sqlite import SqliteEventLog
from couture_common.events import Envelope, ExecuteTask, TaskInstanceFinished, envelope
from couture_common.settings import Settings
from couture_common.topics import RUN, TASK_QUEUE
from couture_executor.adapters.dag_files import BlobDagFileStore
from couture_executor.app import ExecutorService

DAG_FILE = """
from datetime import datetime

from airflow import DAG
from airflow.operators.python import PythonOperator

with DAG("bench", start_date=datetime(2024, 1, 1), schedule=None) as dag:
    PythonOperator(task_id="noop", python_callable=lambda: None)
"""
T0 = datetime(2024, 1, 1, tzinfo=UTC)


def command(version: str, fileloc: Path, run_id: str) -> ExecuteTask:
    return ExecuteTask(
        dag_id="bench",
        run_id=run_id,
        task_id="noop",
        try_number=1,
        max_tries=0,
        dag_version=version,
        fileloc=str(fileloc),
        run_type="manual",
        logical_date=T0,
        data_interval_start=T0,
        data_interval_end=T0,
    )


class TimedLog:
    """The real log, noting when the executor's queue consumer returns an ExecuteTask and when an
    append holding a TaskInstanceFinished returns, per run_id."""

    def __init__(self, log: SqliteEventLog) -> None:
        self._log = log
        self.consumed: dict[str, float] = {}
        self.finished: dict[str, float] = {}

    async def start(self) -> None:
        await self._log.start()

    async def append(self, envelopes: Sequence[Envelope]) -> list[Record]:
        records = await self._log.append(envelopes)
        now = time.perf_counter()
        for e in envelopes:
            if isinstance(e.payload, TaskInstanceFinished):
                self.finished[e.payload.run_id] = now
        return records

    def consumer(
        self, topics: Sequence[str], *, group: str | None = None, on_revoked: RevokedListener | None = None
    ) -> Consumer:
        consumer = self._log.consumer(topics, group=group, on_revoked=on_revoked)
        return TimedConsumer(consumer, self.consumed) if TASK_QUEUE in topics else consumer

    async def end_offsets(self, topic: str) -> dict[int, int]:
        return await self._log.end_offsets(topic)

    async def close(self) -> None:
        await self._log.close()


class TimedConsumer:
    def __init__(self, consumer: Consumer, consumed: dict[str, float]) -> None:
        self._consumer = consumer
        self._consumed = consumed

    @property
    def assignment(self) -> frozenset[TopicPartition]:
        return self._consumer.assignment

    async def poll(self, max_records: int = 1000, timeout: float | None = None) -> list[Record]:
        records = await self._consumer.poll(max_records, timeout)
        now = time.perf_counter()
        for record in records:
            if isinstance(record.envelope.payload, ExecuteTask):
                self._consumed[record.envelope.payload.run_id] = now
        return records

    def position(self, tp: TopicPartition) -> int:
        return self._consumer.position(tp)

    def seek(self, tp: TopicPartition, offset: int) -> None:
        self._consumer.seek(tp, offset)

    async def commit(self, offsets: Mapping[TopicPartition, int] | None = None) -> None:
        await self._consumer.commit(offsets)

    async def close(self) -> None:
        await self._consumer.close()


def percentiles(values: list[float]) -> str:
    ordered = sorted(values)
    p50 = statistics.median(ordered) * 1000
    p90 = ordered[int(len(ordered) * 0.9)] * 1000
    return f"p50 {p50:.1f} ms, p90 {p90:.1f} ms"


async def main(tries: int, batch: int, sync: str) -> None:
    with tempfile.TemporaryDirectory() as home_dir:
        home = Path(home_dir)
        dag_file = home / "dags" / "bench.py"
        dag_file.parent.mkdir()
        dag_file.write_text(DAG_FILE)
        version = hashlib.sha256(dag_file.read_bytes()).hexdigest()
        settings = Settings(home=home, fernet_key=Fernet.generate_key().decode(), executor_slots=32)
        log = TimedLog(SqliteEventLog(home / "events.db", sync=sync))  # type: ignore[arg-type]
        await log.start()
        service = ExecutorService(
            log, settings, dag_file_store=BlobDagFileStore(settings.blobs_path), executor_id="bench"
        )
        await service.start()
        results = log.consumer([RUN])
        try:
            # Warm-up: the zygote loads the DAG file once per version.
            await run_one(log, results, command(version, dag_file, "warmup"))
            run_ids = [f"latency_{i}" for i in range(tries)]
            from_append = [await run_one(log, results, command(version, dag_file, r)) for r in run_ids]
            from_consumed = [log.finished[r] - log.consumed[r] for r in run_ids]
            print(f"no-op PythonOperator try, {tries} sent one at a time (SQLite log, sync={sync}):")
            print(f"  ExecuteTask consumed -> TaskInstanceFinished appended: {percentiles(from_consumed)}")
            print(f"  ExecuteTask appended -> TaskInstanceFinished appended: {percentiles(from_append)}")

            started = time.perf_counter()
            await log.append(
                [envelope(command(version, dag_file, f"batch_{i}"), actor="bench") for i in range(batch)]
            )
            await count_finished(results, batch)
            elapsed = time.perf_counter() - started
            print(f"throughput with {settings.executor_slots} slots: {batch / elapsed:.0f} no-op tries/s")
            print(f"  ({batch} tries in {elapsed:.2f} s)")
        finally:
            await results.close()
            await service.stop()
            await log.close()


async def run_one(log: TimedLog, results: Consumer, cmd: ExecuteTask) -> float:
    started = time.perf_counter()
    await log.append([envelope(cmd, actor="bench")])
    await count_finished(results, 1)
    return time.perf_counter() - started


async def count_finished(results: Consumer, count: int) -> None:
    seen = 0
    while seen < count:
        for record in await results.poll():
            if isinstance(record.envelope.payload, TaskInstanceFinished):
                seen += 1


if __name__ == "__main__":
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--tries", type=int, default=200, help="sequential tries for the latency figure")
    parser.add_argument(
        "--batch", type=int, default=2000, help="tries queued at once for the throughput figure"
    )
    parser.add_argument("--sync", choices=["normal", "full"], default="full", help="SQLite log durability")
    args = parser.parse_args()
    asyncio.run(main(args.tries, args.batch, args.sync))
