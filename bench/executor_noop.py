"""How fast the executor runs no-op PythonOperator tries on the standalone (SQLite) log.

Prints the p50/p90 latency of one try, from its ExecuteTask being appended (an upper bound of "consumed")
to its TaskInstanceFinished being appended, with tries sent one at a time; then how many no-op tries
per second one executor with 32 slots finishes when a batch is queued at once.

    .venv/bin/python bench/executor_noop.py [--tries 200] [--batch 2000] [--sync normal|full]
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import statistics
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

from cryptography.fernet import Fernet

from couture_common.eventlog import Consumer
from couture_common.eventlog.sqlite import SqliteEventLog
from couture_common.events import ExecuteTask, TaskInstanceFinished, envelope
from couture_common.settings import Settings
from couture_common.topics import RUN
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


async def main(tries: int, batch: int, sync: str) -> None:
    with tempfile.TemporaryDirectory() as home_dir:
        home = Path(home_dir)
        dag_file = home / "dags" / "bench.py"
        dag_file.parent.mkdir()
        dag_file.write_text(DAG_FILE)
        version = hashlib.sha256(dag_file.read_bytes()).hexdigest()
        settings = Settings(home=home, fernet_key=Fernet.generate_key().decode(), executor_slots=32)
        log = SqliteEventLog(home / "events.db", sync=sync)  # type: ignore[arg-type]
        await log.start()
        service = ExecutorService(
            log, settings, dag_file_store=BlobDagFileStore(settings.blobs_path), executor_id="bench"
        )
        await service.start()
        results = log.consumer([RUN])
        try:
            # Warm-up: the zygote loads the DAG file once per version.
            await run_one(log, results, command(version, dag_file, "warmup"))
            latencies = [
                await run_one(log, results, command(version, dag_file, f"latency_{i}")) for i in range(tries)
            ]
            latencies.sort()
            print(f"no-op try latency over {tries} sequential tries (sync={sync}):")
            print(f"  p50 {statistics.median(latencies) * 1000:.1f} ms")
            print(f"  p90 {latencies[int(len(latencies) * 0.9)] * 1000:.1f} ms")

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


async def run_one(log: SqliteEventLog, results: Consumer, cmd: ExecuteTask) -> float:
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
