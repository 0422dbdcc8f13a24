"""Throughput and latency of the Kafka event log, and replay from Kafka into the read models.

    eval "$(deploy/local/services up)"
    .venv/bin/python bench/eventlog_kafka.py [--seconds 3] [--replay-events 200000]

Needs COUTURE_KAFKA_BOOTSTRAP; with COUTURE_DATABASE_URL_POSTGRES it also rebuilds PostgreSQL
read models, in a new database on that server (dropped afterwards). Prints:
* append throughput in events/s: batches of 1 from one appender (each waits for its acks=all),
  batches of 1 from 32 concurrent appenders, batches of 100 from one appender;
* single-event append latency, and append-to-delivery latency (from calling ``append`` until a
  waiting consumer's poll returns the event, what one task waits for the next), p50 and p99;
* replay: one consumer reading and decoding the ``run`` topic from offset 0;
* rebuild: a realistic history (``projector_replay.History``) replayed from Kafka by the
  projector into SQLite read models, and PostgreSQL ones when configured.

Everything runs in a namespace of its own on the broker, deleted at the end.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
import tempfile
import time
import uuid
from collections.abc import Sequence
from pathlib import Path

from eventlog_sqlite import batches, events, percentile
from projector_replay import History, drop_namespace, postgres_database

from couture_common.eventlog.kafka import KafkaEventLog
from couture_common.events import Envelope
from couture_common.topics import RUN
from couture_gateway.readmodels.migrations import open_readmodels
from couture_gateway.readmodels.positions import PROJECTED_TOPICS
from couture_gateway.readmodels.rebuild import rebuild


async def appender(
    log: KafkaEventLog, work: list[list[Envelope]], until: float, latencies: list[float]
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
    log: KafkaEventLog, *, batch_size: int, appenders: int, seconds: float
) -> tuple[float, list[float]]:
    per_appender = max(200, int(100_000 / batch_size / appenders))
    work = [batches(batch_size, per_appender) for _ in range(appenders)]
    latencies: list[float] = []
    started = time.perf_counter()
    until = started + seconds
    written = await asyncio.gather(*(appender(log, w, until, latencies) for w in work))
    return sum(written) / (time.perf_counter() - started), latencies


async def delivery_latencies(log: KafkaEventLog, rounds: int) -> list[float]:
    """From ``append`` called to the waiting consumer's poll returning the event."""
    consumer = log.consumer([RUN])
    ends = await log.end_offsets(RUN)
    for tp in consumer.assignment:
        consumer.seek(tp, ends[tp.partition])
    source = events()
    latencies = []
    for _ in range(rounds):
        waiting = asyncio.create_task(consumer.poll(timeout=10))
        await asyncio.sleep(0.01)
        started = time.perf_counter()
        await log.append([next(source)])
        received = await waiting
        latencies.append(time.perf_counter() - started)
        assert len(received) == 1
    await consumer.close()
    return latencies


async def replay_rate(log: KafkaEventLog, count: int) -> tuple[float, float]:
    """Seconds to write ``count`` events, and events/s read and decoded by one consumer from 0."""
    source = events()
    started = time.perf_counter()
    pending: list[asyncio.Task[object]] = []
    for start in range(0, count, 1000):
        pending.append(
            asyncio.create_task(log.append([next(source) for _ in range(min(1000, count - start))]))
        )
        if len(pending) >= 8:
            await asyncio.gather(*pending)
            pending = []
    await asyncio.gather(*pending)
    filled = time.perf_counter() - started
    consumer = log.consumer([RUN])
    read = 0
    started = time.perf_counter()
    while read < count:
        read += len(await consumer.poll(max_records=2000, timeout=5))
    elapsed = time.perf_counter() - started
    await consumer.close()
    return filled, read / elapsed


async def read_rate(log: KafkaEventLog) -> float:
    """Events/s of one consumer reading every projected topic from offset 0, as a rebuild does."""
    total = sum([sum((await log.end_offsets(topic)).values()) for topic in PROJECTED_TOPICS])
    consumer = log.consumer(list(PROJECTED_TOPICS))
    read = 0
    started = time.perf_counter()
    while read < total:
        read += len(await consumer.poll(max_records=2000, timeout=5))
    elapsed = time.perf_counter() - started
    await consumer.close()
    return read / elapsed


async def rebuild_rate(log: KafkaEventLog, url: str) -> tuple[int, float, float]:
    engine = await open_readmodels(url)
    try:
        start, cpu_start = time.perf_counter(), time.process_time()
        replayed = await rebuild(engine, log)
        return replayed, time.perf_counter() - start, time.process_time() - cpu_start
    finally:
        await engine.dispose()


async def report_rebuild(log: KafkaEventLog, name: str, url: str) -> None:
    replayed, elapsed, cpu = await rebuild_rate(log, url)
    print(
        f"  rebuild into {name} read models: {replayed:,} events in {elapsed:.2f} s = "
        f"{replayed / elapsed:,.0f} events/s ({replayed / cpu:,.0f} per CPU-second of this process)"
    )


def report_latency(label: str, values: Sequence[float]) -> None:
    p50, p99 = (percentile(list(values), q) * 1000 for q in (50, 99))
    print(f"  {label:<44} p50 {p50:7.2f} ms   p99 {p99:7.2f} ms")


async def main(
    bootstrap: str, postgres: str | None, seconds: float, replay_events: int, history_events: int
) -> None:
    namespace = f"bench-{uuid.uuid4().hex[:8]}."
    try:
        print(f"Kafka event log benchmark on {bootstrap} ({seconds:.1f} s per append figure)")
        async with KafkaEventLog(bootstrap, namespace=namespace + "append.") as log:
            single: list[float] = []
            for label, batch_size, appenders in [
                ("batch 1, one appender", 1, 1),
                ("batch 1, 32 concurrent appenders", 1, 32),
                ("batch 100, one appender", 100, 1),
            ]:
                rate, latencies = await append_rate(
                    log, batch_size=batch_size, appenders=appenders, seconds=seconds
                )
                if (batch_size, appenders) == (1, 1):
                    single = latencies
                print(f"  append {label + ' (events/s)':<42}{rate:>12,.0f}")
            report_latency("single-event append", single)
            report_latency("append to delivery to a waiting consumer", await delivery_latencies(log, 200))
        async with KafkaEventLog(bootstrap, namespace=namespace + "replay.") as log:
            filled, rate = await replay_rate(log, replay_events)
            print(f"replay: wrote {replay_events:,} events in {filled:.1f} s (batches of 1000, 8 in flight)")
            print(f"  read and decoded by one consumer from offset 0: {rate:,.0f} events/s")
        async with KafkaEventLog(bootstrap, namespace=namespace + "history.") as log:
            history = History()
            started = time.perf_counter()
            for batch in history.batches(history_events, 50):
                await log.append(batch)
            print(f"history: appended {history.count:,} events in {time.perf_counter() - started:.1f} s")
            print(f"  projected topics read (poll + decode): {await read_rate(log):,.0f} events/s")
            with tempfile.TemporaryDirectory(prefix="couture-bench-") as tmp:
                await report_rebuild(log, "SQLite", f"sqlite+aiosqlite:///{Path(tmp) / 'readmodels.db'}")
            if postgres:
                # Never the configured database itself: a rebuild drops its read-model tables.
                async with postgres_database(postgres) as url:
                    await report_rebuild(log, "PostgreSQL", url)
    finally:
        await drop_namespace(bootstrap, namespace)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--seconds", type=float, default=3.0, help="duration of each append figure")
    parser.add_argument("--replay-events", type=int, default=200_000, help="events to replay")
    parser.add_argument("--history-events", type=int, default=100_000, help="events in the rebuilt history")
    args = parser.parse_args()
    bootstrap = os.environ.get("COUTURE_KAFKA_BOOTSTRAP")
    if not bootstrap:
        sys.exit('COUTURE_KAFKA_BOOTSTRAP is not set; start the services: eval "$(deploy/local/services up)"')
    asyncio.run(
        main(
            bootstrap,
            os.environ.get("COUTURE_DATABASE_URL_POSTGRES"),
            args.seconds,
            args.replay_events,
            args.history_events,
        )
    )
