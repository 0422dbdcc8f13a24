"""Throughput and latency of the SQLite event log (the standalone deployment's log).

    .venv/bin/python bench/eventlog_sqlite.py [--seconds 1.5] [--replay-events 200000]

Prints, for ``sync`` full and normal:
* append throughput in events/s for batches of 1 from one appender (each append waits for its own
  commit), batches of 1 from 32 concurrent appenders (group commit shares one transaction and one
  fsync between them) and batches of 100 from one appender;
* the latency of single-event appends from one appender, p50 and p99;
and the replay throughput: one consumer reading and decoding ``--replay-events`` events from 0.

Each append figure runs for ``--seconds``; the whole run stays well under a minute on a laptop.
Events are realistic ``run`` events (XComs and task results spread over 50 DAGs), built before
the clock starts so the figures measure the log, not envelope construction.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import tempfile
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Literal

from couture_common.eventlog.sqlite import SqliteEventLog
from couture_common.events import Envelope, TaskInstanceFinished, XComPushed, envelope

Sync = Literal["full", "normal"]
T0 = datetime(2024, 1, 1, tzinfo=UTC)


def events() -> Iterator[Envelope]:
    n = 0
    while True:
        dag_id = f"dag_{n % 50}"
        run_id = f"scheduled__{(T0 + timedelta(days=n // 500)).isoformat()}"
        task_id = f"task_{n % 7}"
        if n % 2:
            payload: XComPushed | TaskInstanceFinished = XComPushed(
                dag_id=dag_id,
                run_id=run_id,
                task_id=task_id,
                try_number=1,
                key="return_value",
                value='{"rows": 1200, "path": "s3://warehouse/daily/part-0001.parquet"}',
            )
        else:
            payload = TaskInstanceFinished(
                dag_id=dag_id,
                run_id=run_id,
                task_id=task_id,
                try_number=1,
                state="success",
                start_date=T0,
                end_date=T0 + timedelta(seconds=42),
            )
        yield envelope(payload, actor="service:executor", time=T0 + timedelta(milliseconds=n))
        n += 1


def batches(size: int, count: int) -> list[list[Envelope]]:
    source = events()
    return [[next(source) for _ in range(size)] for _ in range(count)]


async def appender(
    log: SqliteEventLog, work: list[list[Envelope]], until: float, latencies: list[float]
) -> int:
    written = 0
    for batch in work:
        if time.perf_counter() >= until:
            break
        started = time.perf_counter()
        await log.append(batch)
        latencies.append(time.perf_counter() - started)
        written += len(batch)
    return written


async def append_rate(
    folder: Path, sync: Sync, *, batch_size: int, appenders: int, seconds: float
) -> tuple[float, list[float]]:
    """Events/s, and each append's latency, over ``seconds`` of appending."""
    # Enough prepared batches that no appender runs dry before the time is up.
    per_appender = max(200, int(60_000 / batch_size / appenders))
    work = [batches(batch_size, per_appender) for _ in range(appenders)]
    latencies: list[float] = []
    path = folder / f"append-{sync}-{batch_size}-{appenders}.db"
    async with SqliteEventLog(path, sync=sync) as log:
        started = time.perf_counter()
        until = started + seconds
        written = await asyncio.gather(*(appender(log, w, until, latencies) for w in work))
        elapsed = time.perf_counter() - started
    return sum(written) / elapsed, latencies


async def replay_rate(folder: Path, count: int) -> tuple[float, float]:
    """Seconds to write ``count`` events, and events/s read and decoded by one consumer from 0."""
    path = folder / "replay.db"
    source = events()
    async with SqliteEventLog(path, sync="normal") as log:
        started = time.perf_counter()
        for start in range(0, count, 1000):
            await log.append([next(source) for _ in range(min(1000, count - start))])
        filled = time.perf_counter() - started
    async with SqliteEventLog(path) as log:
        consumer = log.consumer(["run"])
        read = 0
        started = time.perf_counter()
        while read < count:
            read += len(await consumer.poll(max_records=2000, timeout=5))
        elapsed = time.perf_counter() - started
    return filled, read / elapsed


def percentile(values: list[float], q: int) -> float:
    return statistics.quantiles(values, n=100, method="inclusive")[q - 1] if len(values) > 1 else values[0]


async def main(seconds: float, replay_events: int) -> None:
    with tempfile.TemporaryDirectory(prefix="couture-bench-") as tmp:
        folder = Path(tmp)
        print(f"SQLite event log benchmark (files in {folder}, {seconds:.1f} s per append figure)")
        print(f"{'append':<44}{'sync=full':>14}{'sync=normal':>14}")
        latency: dict[Sync, list[float]] = {}
        for label, batch_size, appenders in [
            ("batch 1, one appender", 1, 1),
            ("batch 1, 32 concurrent appenders", 1, 32),
            ("batch 100, one appender", 100, 1),
        ]:
            rates = []
            for sync in ("full", "normal"):
                rate, latencies = await append_rate(
                    folder, sync, batch_size=batch_size, appenders=appenders, seconds=seconds
                )
                rates.append(rate)
                if batch_size == 1 and appenders == 1:
                    latency[sync] = latencies
            print(f"  {label + ' (events/s)':<42}{rates[0]:>14,.0f}{rates[1]:>14,.0f}")
        for q in (50, 99):
            figures = [percentile(latency[s], q) * 1000 for s in ("full", "normal")]
            print(f"  {f'single-event append latency p{q} (ms)':<42}{figures[0]:>14.3f}{figures[1]:>14.3f}")
        filled, rate = await replay_rate(folder, replay_events)
        print(f"replay: wrote {replay_events:,} events in {filled:.1f} s (batches of 1000, sync=normal)")
        print(f"  read and decoded by one consumer from offset 0: {rate:,.0f} events/s")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--seconds", type=float, default=1.5, help="duration of each append figure")
    parser.add_argument("--replay-events", type=int, default=200_000, help="events to replay")
    args = parser.parse_args()
    asyncio.run(main(args.seconds, args.replay_events))
