"""Two schedulers share a 1-slot pool: the pool's arbiter grants its slot to one try at a time.

Each test runs on both adapters (the SQLite log's consumer groups inside one log instance; the real
Kafka broker of ``deploy/local/services up``, failing in CI without it). The DAGs sit on every
``run`` partition, so both schedulers own tries of the pool and one of them is its arbiter. A
worker stands in for the executor group: it plays the executor's side of the log (started, then
finished after holding the slot a while), with every command run concurrently, so a second try
let through would overlap the first.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import datetime
from pathlib import Path

import pytest

from couture_common.clock import utcnow
from couture_common.eventlog.port import EventLog, TopicPartition
from couture_common.events import (
    DagRunFinished,
    ExecuteTask,
    PoolSet,
    TaskInstanceFinished,
    TaskInstanceQueued,
    envelope,
)
from couture_common.topics import RUN, TASK_QUEUE
from couture_scheduler.service import SchedulerService
from tests.integration.test_services_scheduler_scaleout import DAG_IDS, PARTITIONS, adapter_log, until_owned
from tests.unit.scheduler.driver import dag_spec, parsed, started, task, trigger

POOL = "db"
#: How long each try holds the slot: long enough that an oversubscribed pool shows as an overlap.
HOLD_S = 0.15
TASKS = ("a", "b")


@pytest.fixture(params=["sqlite", "kafka"])
async def log(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[EventLog]:
    async with adapter_log(request, tmp_path) as opened:
        yield await with_pool_dags(opened)


async def with_pool_dags(opened: EventLog) -> EventLog:
    events = [PoolSet(name=POOL, slots=1)]
    for dag_id in DAG_IDS:
        events += parsed(dag_spec(dag_id, *(task(t, pool=POOL) for t in TASKS)))
    await opened.append([envelope(e, actor="test") for e in events])
    return opened


async def work(log: EventLog, hold: float = HOLD_S) -> None:
    """Run every ExecuteTask as the executor would report it, each in its own task."""
    consumer = log.consumer([TASK_QUEUE], group="executor")
    running: set[asyncio.Task[None]] = set()

    async def run(command: ExecuteTask) -> None:
        await log.append([envelope(started(command, utcnow()), actor="worker")])
        await asyncio.sleep(hold)
        done = TaskInstanceFinished(
            dag_id=command.dag_id,
            run_id=command.run_id,
            task_id=command.task_id,
            try_number=command.try_number,
            state="success",
            end_date=utcnow(),
        )
        await log.append([envelope(done, actor="worker")])

    try:
        while True:
            for record in await consumer.poll(100, timeout=0.2):
                command = record.envelope.payload
                if isinstance(command, ExecuteTask):
                    job = asyncio.create_task(run(command))
                    running.add(job)
                    job.add_done_callback(running.discard)
    finally:
        for job in running:
            job.cancel()
        await consumer.close()


async def run_topic(log: EventLog) -> list[tuple[datetime, object]]:
    """Every event on the ``run`` topic with its envelope time."""
    ends = await log.end_offsets(RUN)
    consumer = log.consumer([RUN])
    found: list[tuple[datetime, object]] = []
    try:
        while any(consumer.position(TopicPartition(RUN, p)) < end for p, end in ends.items()):
            found += [(r.envelope.time, r.envelope.payload) for r in await consumer.poll(5000, timeout=1)]
    finally:
        await consumer.close()
    return found


def most_at_once(events: list[tuple[datetime, object]]) -> int:
    """The most tries of the pool queued or running at the same time, by the log's own times."""
    steps: list[tuple[datetime, int]] = []
    in_pool: set[tuple[str, str, str, int]] = set()
    for time, e in events:
        if isinstance(e, TaskInstanceQueued) and e.pool == POOL:
            in_pool.add((e.dag_id, e.run_id, e.task_id, e.try_number))
            steps.append((time, 1))
        elif isinstance(e, TaskInstanceFinished) and (e.dag_id, e.run_id, e.task_id, e.try_number) in in_pool:
            steps.append((time, -1))
    holding = most = 0
    # At equal times the end counts first: a slot given back and granted in one instant is no overlap.
    for _, step in sorted(steps):
        holding += step
        most = max(most, holding)
    return most


async def until_queued(log: EventLog, tries: int) -> None:
    for _ in range(600):
        if sum(isinstance(e, TaskInstanceQueued) for _, e in await run_topic(log)) >= tries:
            return
        await asyncio.sleep(0.05)
    raise AssertionError(f"fewer than {tries} tries were queued")


async def until_finished(log: EventLog, runs: int, timeout: float = 90.0) -> list[tuple[datetime, object]]:
    async with asyncio.timeout(timeout):
        while True:
            events = await run_topic(log)
            if sum(isinstance(e, DagRunFinished) for _, e in events) >= runs:
                return events
            await asyncio.sleep(0.5)


async def test_two_schedulers_never_hold_more_than_a_pools_slots_and_every_run_completes(
    log: EventLog,
) -> None:
    first, second = SchedulerService(log, tick=0.2), SchedulerService(log, tick=0.2)
    worker = asyncio.create_task(work(log))
    await first.start()
    await second.start()
    try:
        split = [await until_owned(s, PARTITIONS // 2) for s in (first, second)]
        assert split[0] | split[1] == frozenset(range(PARTITIONS)) and not split[0] & split[1]
        assert [s.arbitrates(POOL) for s in (first, second)].count(True) == 1
        await log.append([envelope(trigger(dag_id, "one"), actor="test") for dag_id in DAG_IDS])

        events = await until_finished(log, len(DAG_IDS))

        finished = {(e.dag_id, e.run_id): e.state for _, e in events if isinstance(e, DagRunFinished)}
        assert finished == {(dag_id, "one"): "success" for dag_id in DAG_IDS}
        queued = [e for _, e in events if isinstance(e, TaskInstanceQueued)]
        assert sorted((e.dag_id, e.task_id, e.try_number) for e in queued) == sorted(
            (dag_id, t, 1) for dag_id in DAG_IDS for t in TASKS
        )
        assert most_at_once(events) == 1
    finally:
        worker.cancel()
        await asyncio.gather(worker, return_exceptions=True)
        await first.stop()
        await second.stop()


async def test_when_the_pools_arbiter_stops_the_next_one_knows_its_grants(log: EventLog) -> None:
    first, second = SchedulerService(log, tick=0.2), SchedulerService(log, tick=0.2)
    # Each try holds the slot long enough that the handover happens while one holds it.
    worker = asyncio.create_task(work(log, hold=0.6))
    await first.start()
    await second.start()
    try:
        for s in (first, second):
            await until_owned(s, PARTITIONS // 2)
        arbiter, other = (first, second) if first.arbitrates(POOL) else (second, first)
        await log.append([envelope(trigger(dag_id, "one"), actor="test") for dag_id in DAG_IDS])
        await until_queued(log, 2)

        # Mid-way: the arbiter leaves with a slot granted; the other replays the pool topic.
        await arbiter.stop()
        await until_owned(other, PARTITIONS)
        assert other.arbitrates(POOL)

        events = await until_finished(log, len(DAG_IDS))
        finished = {(e.dag_id, e.run_id): e.state for _, e in events if isinstance(e, DagRunFinished)}
        assert finished == {(dag_id, "one"): "success" for dag_id in DAG_IDS}
        assert most_at_once(events) == 1
    finally:
        worker.cancel()
        await asyncio.gather(worker, return_exceptions=True)
        await first.stop()
        await second.stop()
