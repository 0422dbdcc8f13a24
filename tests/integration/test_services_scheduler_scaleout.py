"""Two schedulers on one log split the DAGs by run partition; a stopping one hands its DAGs over.

Each test runs on both adapters. The SQLite log coordinates consumer groups inside one log
instance, so two scheduler services on the same instance are a real group of two; on Kafka each
scheduler's consumer is a member of the group on the real broker (``deploy/local/services up``;
the Kafka cases fail in CI without it and skip elsewhere).
"""

from __future__ import annotations

import asyncio
import contextlib
import uuid
from collections import Counter
from collections.abc import AsyncIterator, Sequence
from pathlib import Path

import pytest

from couture_common.eventlog.kafka import KafkaEventLog
from couture_common.eventlog.port import (
    Consumer,
    EventLog,
    Record,
    RevokedListener,
    TopicPartition,
    partition_for,
)
from couture_common.eventlog.sqlite import SqliteEventLog
from couture_common.events import Envelope, ExecuteTask, envelope
from couture_common.topics import RUN, TASK_QUEUE, TOPICS
from couture_scheduler.service import ACTOR, SchedulerService
from tests.integration.test_eventlog_kafka import drop_namespace
from tests.unit.scheduler.driver import at, dag_spec, parsed, task, trigger

PARTITIONS = TOPICS[RUN].partitions
#: One DAG on each run partition.
DAG_IDS = sorted(
    {partition_for(f"dag_{n}", PARTITIONS): f"dag_{n}" for n in range(200)}.values(),
    key=lambda dag_id: partition_for(dag_id, PARTITIONS),
)


#: How long a rebalance may take: a Kafka member notices one at its next heartbeat, then rejoins.
SETTLE_S = 30.0


@contextlib.asynccontextmanager
async def adapter_log(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[EventLog]:
    """The log of the fixture's parameter: SQLite in ``tmp_path``, or a fresh Kafka namespace."""
    if request.param == "sqlite":
        async with SqliteEventLog(tmp_path / "events.db") as opened:
            yield opened
        return
    bootstrap = request.getfixturevalue("kafka_bootstrap")
    prefix = f"test-{uuid.uuid4().hex[:12]}."
    try:
        async with KafkaEventLog(bootstrap, namespace=prefix) as opened:
            yield opened
    finally:
        await drop_namespace(bootstrap, prefix)


@pytest.fixture(params=["sqlite", "kafka"])
async def log(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[EventLog]:
    async with adapter_log(request, tmp_path) as opened:
        yield await with_dags(opened)


async def with_dags(opened: EventLog) -> EventLog:
    await opened.append(
        [envelope(e, actor="test") for dag_id in DAG_IDS for e in parsed(dag_spec(dag_id, task("t")))]
    )
    return opened


async def executions(log: EventLog) -> Counter[tuple[str, str]]:
    """(dag_id, run_id) -> how many ExecuteTask commands the schedulers sent for it."""
    ends = await log.end_offsets(TASK_QUEUE)
    consumer = log.consumer([TASK_QUEUE])
    try:
        counts: Counter[tuple[str, str]] = Counter()
        while any(consumer.position(TopicPartition(TASK_QUEUE, p)) < end for p, end in ends.items()):
            for record in await consumer.poll(5000, timeout=1):
                command = record.envelope.payload
                assert isinstance(command, ExecuteTask)
                counts[(command.dag_id, command.run_id)] += 1
        return counts
    finally:
        await consumer.close()


async def until_owned(scheduler: SchedulerService, count: int) -> frozenset[int]:
    for _ in range(int(SETTLE_S / 0.05)):
        if scheduler.ready and len(scheduler.owned_partitions) == count:
            return scheduler.owned_partitions
        await asyncio.sleep(0.05)
    raise AssertionError(f"the scheduler owns {sorted(scheduler.owned_partitions)}, not {count} partitions")


async def until_executed(log: EventLog, runs: set[tuple[str, str]]) -> Counter[tuple[str, str]]:
    for _ in range(int(SETTLE_S / 0.1)):
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


class SlowAppends:
    """The log, with appends that take ``delay`` seconds longer once slowed (a congested broker)."""

    def __init__(self, log: EventLog) -> None:
        self._log = log
        self.delay = 0.0
        self.appending = asyncio.Event()

    async def start(self) -> None:
        await self._log.start()

    async def append(self, envelopes: Sequence[Envelope]) -> list[Record]:
        if self.delay:
            self.appending.set()
            await asyncio.sleep(self.delay)
        return await self._log.append(envelopes)

    def consumer(
        self, topics: Sequence[str], *, group: str | None = None, on_revoked: RevokedListener | None = None
    ) -> Consumer:
        return self._log.consumer(topics, group=group, on_revoked=on_revoked)

    async def end_offsets(self, topic: str) -> dict[int, int]:
        return await self._log.end_offsets(topic)

    async def close(self) -> None:
        pass


async def test_a_decision_being_appended_when_the_group_moves_its_dag_lands_before_the_new_owner_decides(
    log: EventLog,
) -> None:
    slow = SlowAppends(log)
    first, second = SchedulerService(slow, tick=0.2), SchedulerService(log, tick=0.2)
    await first.start()
    try:
        await until_owned(first, PARTITIONS)
        slow.delay = 1.5
        await log.append([envelope(trigger(dag_id, "one"), actor="test") for dag_id in DAG_IDS])
        await asyncio.wait_for(slow.appending.wait(), SETTLE_S)

        # The group takes half the DAGs while the first scheduler's decisions for them are on the way.
        await second.start()
        split = [await until_owned(s, PARTITIONS // 2) for s in (first, second)]
        assert split[0] | split[1] == frozenset(range(PARTITIONS))

        counts = await until_executed(log, {(dag_id, "one") for dag_id in DAG_IDS})
        assert counts == Counter({(dag_id, "one"): 1 for dag_id in DAG_IDS})
        repeated = {key: n for key, n in (await decisions(log)).items() if n > 1}
        assert repeated == {}
    finally:
        await first.stop()
        await second.stop()


async def decisions(log: EventLog) -> Counter[tuple[str, ...]]:
    """How often the schedulers decided each thing: (event type, dag_id, run_id, task_id, try)."""
    counts: Counter[tuple[str, ...]] = Counter()
    for topic in (RUN, TASK_QUEUE):
        ends = await log.end_offsets(topic)
        consumer = log.consumer([topic])
        try:
            while any(consumer.position(TopicPartition(topic, p)) < end for p, end in ends.items()):
                for record in await consumer.poll(5000, timeout=1):
                    if record.envelope.actor == ACTOR:
                        e = record.envelope.payload
                        fields = (
                            getattr(e, name, "") for name in ("dag_id", "run_id", "task_id", "try_number")
                        )
                        counts[(record.envelope.type, *map(str, fields))] += 1
        finally:
            await consumer.close()
    return counts


async def test_a_scheduler_alone_owns_every_partition(log: EventLog) -> None:
    scheduler = SchedulerService(log, tick=0.2)
    await scheduler.start()
    try:
        assert await until_owned(scheduler, PARTITIONS) == frozenset(range(PARTITIONS))
    finally:
        await scheduler.stop()
    assert not scheduler.ready
