"""Two schedulers on one log split the DAGs by run partition; a stopping one hands its DAGs over.

The SQLite log coordinates consumer groups inside one log instance, so two scheduler services on
the same instance are a real group of two, as two processes are on Kafka.
"""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from couture_common.eventlog.port import EventLog, partition_for
from couture_common.eventlog.sqlite import SqliteEventLog
from couture_common.events import ExecuteTask, envelope
from couture_common.topics import RUN, TASK_QUEUE, TOPICS
from couture_scheduler.service import SchedulerService
from tests.unit.scheduler.driver import at, dag_spec, parsed, task, trigger

PARTITIONS = TOPICS[RUN].partitions
#: One DAG on each run partition.
DAG_IDS = sorted(
    {partition_for(f"dag_{n}", PARTITIONS): f"dag_{n}" for n in range(200)}.values(),
    key=lambda dag_id: partition_for(dag_id, PARTITIONS),
)


@pytest.fixture
async def log(tmp_path: Path) -> AsyncIterator[EventLog]:
    async with SqliteEventLog(tmp_path / "events.db") as opened:
        await opened.append(
            [envelope(e, actor="test") for dag_id in DAG_IDS for e in parsed(dag_spec(dag_id, task("t")))]
        )
        yield opened


async def executions(log: EventLog) -> Counter[tuple[str, str]]:
    """(dag_id, run_id) -> how many ExecuteTask commands the schedulers sent for it."""
    consumer = log.consumer([TASK_QUEUE])
    try:
        counts: Counter[tuple[str, str]] = Counter()
        while records := await consumer.poll(5000, timeout=0):
            for record in records:
                command = record.envelope.payload
                assert isinstance(command, ExecuteTask)
                counts[(command.dag_id, command.run_id)] += 1
        return counts
    finally:
        await consumer.close()


async def until_owned(scheduler: SchedulerService, count: int) -> frozenset[int]:
    for _ in range(200):
        if scheduler.ready and len(scheduler.owned_partitions) == count:
            return scheduler.owned_partitions
        await asyncio.sleep(0.05)
    raise AssertionError(f"the scheduler owns {sorted(scheduler.owned_partitions)}, not {count} partitions")


async def until_executed(log: EventLog, runs: set[tuple[str, str]]) -> Counter[tuple[str, str]]:
    for _ in range(150):
        if runs <= set(await executions(log)):
            # A duplicate decision would follow within a tick or two.
            await asyncio.sleep(1.0)
            return await executions(log)
        await asyncio.sleep(0.1)
    raise AssertionError(f"not every run was sent to executors: {sorted(runs - set(await executions(log)))}")


async def test_two_schedulers_each_decide_for_their_own_dags_once_and_one_takes_over_on_stop(
    log: EventLog,
) -> None:
    first, second = SchedulerService(log, tick=0.2), SchedulerService(log, tick=0.2)
    await first.start()
    await second.start()
    try:
        split = [await until_owned(s, PARTITIONS // 2) for s in (first, second)]
        assert split[0] | split[1] == frozenset(range(PARTITIONS)) and not split[0] & split[1]
        await log.append([envelope(trigger(dag_id, "one"), actor="test") for dag_id in DAG_IDS])

        counts = await until_executed(log, {(dag_id, "one") for dag_id in DAG_IDS})
        assert counts == Counter({(dag_id, "one"): 1 for dag_id in DAG_IDS})

        await first.stop()
        assert await until_owned(second, PARTITIONS) == frozenset(range(PARTITIONS))
        await log.append([envelope(trigger(dag_id, "two", at(days=1)), actor="test") for dag_id in DAG_IDS])

        counts = await until_executed(log, {(dag_id, r) for dag_id in DAG_IDS for r in ("one", "two")})
        assert counts == Counter({(dag_id, r): 1 for dag_id in DAG_IDS for r in ("one", "two")})
    finally:
        await first.stop()
        await second.stop()


async def test_a_scheduler_alone_owns_every_partition(log: EventLog) -> None:
    scheduler = SchedulerService(log, tick=0.2)
    await scheduler.start()
    try:
        assert await until_owned(scheduler, PARTITIONS) == frozenset(range(PARTITIONS))
    finally:
        await scheduler.stop()
    assert not scheduler.ready
