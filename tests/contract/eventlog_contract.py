"""The promises of the event-log port (libs/couture_common/eventlog/port.py), for every adapter.

An adapter's test module subclasses :class:`EventLogContract` once and implements ``make_log``; the
suite then proves that adapter. Tests talk to the port only and assume nothing an adapter may do
differently: group assignments are checked for shape (disjoint, complete, even), not for which
member got which partition, and rebalances are awaited by polling, as a Kafka consumer needs.

    from tests.contract.eventlog_contract import EventLogContract

    class TestKafkaEventLogContract(EventLogContract):
        def make_log(self, topics): ...   # a log on this test's own topics of the real broker
"""

from __future__ import annotations

import abc
import asyncio
import contextlib
import random
import time
from collections import defaultdict
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable, Mapping
from datetime import UTC, datetime, timedelta

import pytest

from couture_common.eventlog import Consumer, EventLog, EventLogError, Record, TopicPartition, partition_for
from couture_common.eventlog.factory import open_event_log
from couture_common.events import (
    DagRunRequested,
    Envelope,
    ExecuteTask,
    KillTask,
    XComPushed,
    envelope,
)
from couture_common.topics import RUN, TASK_QUEUE, TOPICS, TopicSpec

OpenLog = Callable[..., Awaitable[EventLog]]

RUN_PARTITIONS = TOPICS[RUN].partitions
ALL_RUN_PARTITIONS = frozenset(TopicPartition(RUN, p) for p in range(RUN_PARTITIONS))
#: Dag ids whose keys land on every partition of ``run``.
SPREAD_DAG_IDS = [f"dag_{i}" for i in range(40)]
#: How soon a waiting poll must see an append made by another task of the same process.
WAKE_UP_S = 0.05


def xcom(
    dag_id: str = "etl", *, task_id: str = "extract", value: str = '"ok"', try_number: int = 1
) -> Envelope:
    return envelope(
        XComPushed(
            dag_id=dag_id,
            run_id="manual__2024-05-01T00:00:00+00:00",
            task_id=task_id,
            try_number=try_number,
            key="return_value",
            value=value,
        ),
        actor="service:executor",
    )


def trigger(dag_id: str = "etl") -> Envelope:
    return envelope(
        DagRunRequested(
            dag_id=dag_id,
            run_id="manual__2024-05-01T00:00:00+00:00",
            logical_date=datetime(2024, 5, 1, tzinfo=UTC),
            conf={"rows": [1, 2, 3], "mode": "full", "nested": {"deep": None}},
            note="backfill after the outage",
        ),
        actor="user:alice",
        trace={"traceparent": "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"},
    )


def execute(dag_id: str = "etl") -> Envelope:
    day = datetime(2024, 5, 1, tzinfo=UTC)
    return envelope(
        ExecuteTask(
            dag_id=dag_id,
            run_id="scheduled__2024-05-01T00:00:00+00:00",
            task_id="load",
            try_number=2,
            max_tries=3,
            dag_version="sha256:ab12",
            fileloc="dags/etl.py",
            run_type="scheduled",
            logical_date=day,
            data_interval_start=day,
            data_interval_end=day + timedelta(days=1),
            execution_timeout=300.0,
        ),
        actor="service:scheduler",
    )


async def read_all(consumer: Consumer, count: int, *, timeout: float = 10.0) -> list[Record]:
    """Poll until ``count`` records came, failing if more come or they take longer than ``timeout``."""
    records: list[Record] = []
    deadline = time.monotonic() + timeout
    while len(records) < count:
        left = deadline - time.monotonic()
        assert left > 0, f"only {len(records)} of {count} records arrived within {timeout} s"
        records += await consumer.poll(timeout=min(left, 0.5))
    assert len(records) == count, f"expected {count} records, got {len(records)}"
    assert await consumer.poll(timeout=0.05) == []
    return records


async def until(
    condition: Callable[[], bool], consumers: Iterable[Consumer], *, timeout: float = 20.0
) -> None:
    """Wait for a group to settle: polling is what drives a Kafka consumer through a rebalance."""
    deadline = time.monotonic() + timeout
    members = list(consumers)
    while not condition():
        assert time.monotonic() < deadline, "the group did not settle in time"
        for member in members:
            await member.poll(timeout=0.05)


def in_log_order(records: Iterable[Record]) -> list[Record]:
    return sorted(records, key=lambda r: (r.topic, r.partition, r.offset))


def by_partition(records: Iterable[Record]) -> dict[int, list[int]]:
    offsets: dict[int, list[int]] = defaultdict(list)
    for record in records:
        offsets[record.partition].append(record.offset)
    return dict(offsets)


class EventLogContract(abc.ABC):
    @abc.abstractmethod
    def make_log(self, topics: Mapping[str, TopicSpec]) -> EventLog:
        """A log with these topics, not started, on this test's storage.

        Every call within one test opens the same storage, so a second log sees what the first
        wrote (a restart, or another service instance); different tests get separate storage.
        """

    @pytest.fixture
    async def open_log(self) -> AsyncIterator[OpenLog]:
        opened: list[EventLog] = []

        async def open_(topics: Mapping[str, TopicSpec] = TOPICS) -> EventLog:
            log = self.make_log(topics)
            await log.start()
            opened.append(log)
            return log

        yield open_
        for log in reversed(opened):
            await log.close()

    @pytest.fixture
    async def log(self, open_log: OpenLog) -> EventLog:
        return await open_log()

    # Appending and reading.

    async def test_appended_events_come_back_in_order_with_gapless_offsets(self, log: EventLog) -> None:
        first = [xcom(task_id=f"t{i}") for i in range(3)]
        second = [xcom(task_id=f"t{i}") for i in range(3, 5)]

        appended = await log.append(first) + await log.append(second)

        partition = partition_for("etl", RUN_PARTITIONS)
        assert [(r.topic, r.partition, r.offset) for r in appended] == [(RUN, partition, i) for i in range(5)]
        assert [r.envelope for r in appended] == first + second
        polled = await read_all(log.consumer([RUN]), 5)
        assert polled == appended

    async def test_envelopes_round_trip_equal(self, log: EventLog) -> None:
        sent = [trigger(), xcom(value='{"rows": 12, "path": "/tmp/out.csv"}'), execute()]

        await log.append(sent)

        received = await read_all(log.consumer([RUN, TASK_QUEUE]), 3)
        assert sorted((r.envelope for r in received), key=lambda e: e.id) == sorted(sent, key=lambda e: e.id)

    async def test_empty_append_writes_nothing(self, log: EventLog) -> None:
        assert await log.append([]) == []
        assert set((await log.end_offsets(RUN)).values()) == {0}

    async def test_events_are_partitioned_by_key_and_stay_in_order_per_key(self, log: EventLog) -> None:
        sent = [xcom(dag_id, task_id=f"t{i}") for i in range(3) for dag_id in SPREAD_DAG_IDS]

        appended = await log.append(sent)

        assert {r.partition for r in appended} == set(range(RUN_PARTITIONS))
        for record in appended:
            assert record.partition == partition_for(record.envelope.key, RUN_PARTITIONS)
        received = await read_all(log.consumer([RUN]), len(sent))
        for partition, offsets in by_partition(received).items():
            assert offsets == sorted(offsets), f"partition {partition} out of order"
        per_key: dict[str, list[str]] = defaultdict(list)
        for record in received:
            assert isinstance(record.envelope.payload, XComPushed)
            per_key[record.envelope.key].append(record.envelope.payload.task_id)
        assert all(task_ids == ["t0", "t1", "t2"] for task_ids in per_key.values())

    async def test_a_batch_with_an_unconfigured_topic_is_refused_whole(self, open_log: OpenLog) -> None:
        log = await open_log({RUN: TOPICS[RUN]})
        kill = envelope(
            KillTask(dag_id="etl", run_id="r1", task_id="load", try_number=1, reason="user asked"),
            actor="user:alice",
        )

        with pytest.raises(EventLogError, match="control"):
            await log.append([xcom(), kill, xcom(task_id="other")])

        assert set((await log.end_offsets(RUN)).values()) == {0}
        assert await log.consumer([RUN]).poll(timeout=0.05) == []
        assert (await log.append([xcom()]))[0].offset == 0

    async def test_end_offsets_are_the_next_offset_per_partition(self, log: EventLog) -> None:
        assert await log.end_offsets(RUN) == dict.fromkeys(range(RUN_PARTITIONS), 0)

        await log.append([xcom("a"), xcom("a"), xcom("b")])

        expected = dict.fromkeys(range(RUN_PARTITIONS), 0)
        expected[partition_for("a", RUN_PARTITIONS)] += 2
        expected[partition_for("b", RUN_PARTITIONS)] += 1
        assert await log.end_offsets(RUN) == expected
        with pytest.raises(EventLogError, match="no-such-topic"):
            await log.end_offsets("no-such-topic")

    async def test_many_concurrent_appenders_get_unique_gapless_offsets(self, log: EventLog) -> None:
        rng = random.Random(7)
        dag_ids = ["alpha", "beta", "gamma", "delta", "epsilon", "zeta"]

        async def appender(worker: int) -> list[list[Record]]:
            calls = []
            for call in range(10):
                batch = [
                    xcom(rng.choice(dag_ids), task_id=f"w{worker}c{call}e{i}")
                    for i in range(rng.randint(1, 5))
                ]
                calls.append(await log.append(batch))
            return calls

        results = await asyncio.gather(*(appender(w) for w in range(16)))

        calls = [call for worker in results for call in worker]
        appended = [record for call in calls for record in call]
        received = await read_all(log.consumer([RUN]), len(appended))
        assert sorted(r.envelope.id for r in received) == sorted(r.envelope.id for r in appended)
        for partition, offsets in by_partition(received).items():
            assert offsets == list(range(len(offsets))), f"partition {partition} has gaps or repeats"
        at = {(r.partition, r.offset): r.envelope for r in received}
        assert all(at[(r.partition, r.offset)] == r.envelope for r in appended)
        for call in calls:
            for offsets in by_partition(call).values():
                assert offsets == sorted(offsets)

    # Consumers.

    async def test_a_consumer_without_group_replays_from_zero_and_commits_nothing(
        self, log: EventLog
    ) -> None:
        appended = await log.append([xcom(dag_id) for dag_id in SPREAD_DAG_IDS[:10]])
        first = log.consumer([RUN])
        assert first.assignment == ALL_RUN_PARTITIONS

        assert in_log_order(await read_all(first, 10)) == in_log_order(appended)
        await first.commit()
        await first.close()

        again = log.consumer([RUN])
        assert in_log_order(await read_all(again, 10)) == in_log_order(appended)
        grouped = log.consumer([RUN], group="projector")
        await until(lambda: grouped.assignment == ALL_RUN_PARTITIONS, [grouped])
        assert all(grouped.position(tp) == 0 for tp in ALL_RUN_PARTITIONS)

    async def test_a_consumer_without_group_reads_only_the_partitions_it_is_given(
        self, log: EventLog
    ) -> None:
        appended = await log.append([xcom(dag_id) for dag_id in SPREAD_DAG_IDS])
        chosen = frozenset(TopicPartition(RUN, p) for p in range(0, RUN_PARTITIONS, 2))
        consumer = log.consumer([RUN], partitions=chosen)
        assert consumer.assignment == chosen

        expected = [r for r in appended if TopicPartition(r.topic, r.partition) in chosen]
        assert in_log_order(await read_all(consumer, len(expected))) == in_log_order(expected)
        assert await consumer.poll(timeout=0.2) == []
        none = log.consumer([RUN], partitions=[])
        assert none.assignment == frozenset()
        assert await none.poll(timeout=0.1) == []

    async def test_refuses_partitions_outside_its_topics_or_with_a_group(self, log: EventLog) -> None:
        with pytest.raises(EventLogError, match=r"partitions: task-queue\[0\] is not of the topics"):
            log.consumer([RUN], partitions=[TopicPartition(TASK_QUEUE, 0)])
        last = RUN_PARTITIONS - 1
        with pytest.raises(EventLogError, match=f"partitions: topic 'run' has partitions 0..{last}"):
            log.consumer([RUN], partitions=[TopicPartition(RUN, RUN_PARTITIONS)])
        with pytest.raises(EventLogError, match="partitions are for a consumer without a group"):
            log.consumer([RUN], group="g", partitions=[TopicPartition(RUN, 0)])

    async def test_its_url_opens_the_same_log(self, log: EventLog) -> None:
        appended = await log.append([xcom(dag_id) for dag_id in SPREAD_DAG_IDS[:10]])
        async with contextlib.AsyncExitStack() as stack:
            again = open_event_log(log.url)
            await again.start()
            stack.push_async_callback(again.close)
            assert in_log_order(await read_all(again.consumer([RUN]), 10)) == in_log_order(appended)

    async def test_a_group_resumes_after_its_committed_offsets(self, log: EventLog) -> None:
        appended = await log.append([xcom(task_id=f"t{i}") for i in range(10)])
        tp = TopicPartition(RUN, appended[0].partition)
        consumer = log.consumer([RUN], group="scheduler")
        await until(lambda: consumer.assignment == ALL_RUN_PARTITIONS, [consumer])

        head = await consumer.poll(max_records=4, timeout=5)
        assert head == appended[:4]
        assert consumer.position(tp) == 4
        await consumer.commit()
        await consumer.close()

        resumed = log.consumer([RUN], group="scheduler")
        assert await read_all(resumed, 6) == appended[4:]
        await resumed.commit({tp: 7})
        await resumed.close()

        rewound = log.consumer([RUN], group="scheduler")
        assert await read_all(rewound, 3) == appended[7:]

    async def test_group_commits_and_events_survive_a_restart(self, open_log: OpenLog) -> None:
        before = await open_log()
        appended = await before.append([trigger(), *(xcom(task_id=f"t{i}") for i in range(4))])
        consumer = before.consumer([RUN], group="projector")
        await until(lambda: consumer.assignment == ALL_RUN_PARTITIONS, [consumer])
        done = await consumer.poll(max_records=2, timeout=5)
        await consumer.commit()
        await before.close()

        after = await open_log()

        resumed = after.consumer([RUN], group="projector")
        rest = await read_all(resumed, 3)
        assert in_log_order(done + rest) == in_log_order(appended)
        assert in_log_order(await read_all(after.consumer([RUN]), 5)) == in_log_order(appended)
        assert (await after.append([xcom(task_id="t5")]))[0].offset == 5

    async def test_two_group_members_split_the_partitions_and_take_over_on_close(self, log: EventLog) -> None:
        first = log.consumer([RUN], group="scheduler")
        second = log.consumer([RUN], group="scheduler")
        members = [first, second]

        def split_evenly() -> bool:
            a, b = first.assignment, second.assignment
            return a.isdisjoint(b) and a | b == ALL_RUN_PARTITIONS and len(a) == len(b)

        await until(split_evenly, members)
        await log.append([xcom(dag_id) for dag_id in SPREAD_DAG_IDS])
        seen: dict[int, list[Record]] = {0: [], 1: []}
        deadline = time.monotonic() + 10
        while len(seen[0]) + len(seen[1]) < len(SPREAD_DAG_IDS):
            assert time.monotonic() < deadline, "the group did not read every event in time"
            for index, member in enumerate(members):
                records = await member.poll(timeout=0.2)
                assert all(TopicPartition(RUN, r.partition) in member.assignment for r in records)
                seen[index] += records
        assert seen[0] and seen[1]
        await first.commit()
        await second.commit()

        later = await log.append([xcom(dag_id, task_id="again") for dag_id in SPREAD_DAG_IDS])
        await first.close()

        await until(lambda: second.assignment == ALL_RUN_PARTITIONS, [second])
        taken_over = await read_all(second, len(later))
        assert in_log_order(taken_over) == in_log_order(later)

    async def test_a_member_is_told_what_it_loses_and_awaited_before_the_group_moves_it(
        self, log: EventLog
    ) -> None:
        told: list[frozenset[TopicPartition]] = []
        parted = asyncio.Event()

        async def revoked(partitions: frozenset[TopicPartition]) -> None:
            told.append(partitions)
            assert partitions.isdisjoint(first.assignment) and not second.assignment
            # A slow listener holds the hand-over; what it appends is in the log before it ends.
            await asyncio.sleep(0.3)
            await log.append([xcom(dag_id, task_id="parting") for dag_id in SPREAD_DAG_IDS])
            parted.set()

        first = log.consumer([RUN], group="scheduler", on_revoked=revoked)
        await until(lambda: first.assignment == ALL_RUN_PARTITIONS, [first])
        assert told == []
        second = log.consumer([RUN], group="scheduler")

        def split_evenly() -> bool:
            assert parted.is_set() or not second.assignment, "partitions moved before their listener ended"
            a, b = first.assignment, second.assignment
            return a.isdisjoint(b) and a | b == ALL_RUN_PARTITIONS and len(a) == len(b)

        await until(split_evenly, [first, second])
        assert second.assignment <= frozenset().union(*told)
        moved = [
            d
            for d in SPREAD_DAG_IDS
            if TopicPartition(RUN, partition_for(d, RUN_PARTITIONS)) in second.assignment
        ]
        for tp in second.assignment:
            second.seek(tp, 0)
        parting = await read_all(second, len(moved))
        assert sorted(r.envelope.key for r in parting) == sorted(moved)

    async def test_what_a_member_gives_up_waits_for_its_listener_through_another_rebalance(
        self, log: EventLog
    ) -> None:
        release = asyncio.Event()
        given_up: set[TopicPartition] = set()

        async def slow(partitions: frozenset[TopicPartition]) -> None:
            # Only the first revocation is slow: a later one must not let the first's partitions go.
            first_call = not given_up
            given_up.update(partitions)
            if first_call:
                await release.wait()

        async def keep_polling(consumer: Consumer) -> None:
            while True:
                await consumer.poll(timeout=0.05)

        first = log.consumer([RUN], group="scheduler", on_revoked=slow)
        await until(lambda: first.assignment == ALL_RUN_PARTITIONS, [first])
        joiners = [log.consumer([RUN], group="scheduler")]
        polling = [asyncio.create_task(keep_polling(joiners[0]))]
        try:
            await until(lambda: bool(given_up), [first])
            joiners.append(log.consumer([RUN], group="scheduler"))
            polling.append(asyncio.create_task(keep_polling(joiners[1])))
            for _ in range(20):
                # A poll returns by its timeout although the group waits for this member's listener.
                async with asyncio.timeout(2):
                    await first.poll(timeout=0.05)
                assert not (joiners[0].assignment | joiners[1].assignment) & given_up
        finally:
            # A listener that never returns would hold the group (and the member's close) forever.
            release.set()
        members = [first, *joiners]

        def split_in_three() -> bool:
            held = [m.assignment for m in members]
            return sum(map(len, held)) == RUN_PARTITIONS and frozenset().union(*held) == ALL_RUN_PARTITIONS

        try:
            await until(split_in_three, [first])
        finally:
            for task in polling:
                task.cancel()
            await asyncio.wait(polling)
        assert all(m.assignment for m in members)

    async def test_only_group_members_take_a_revocation_listener(self, log: EventLog) -> None:
        async def revoked(partitions: frozenset[TopicPartition]) -> None:
            raise AssertionError(partitions)

        with pytest.raises(EventLogError, match="on_revoked needs a group"):
            log.consumer([RUN], on_revoked=revoked)

    async def test_seek_moves_the_position(self, log: EventLog) -> None:
        appended = await log.append([xcom(task_id=f"t{i}") for i in range(6)])
        tp = TopicPartition(RUN, appended[0].partition)
        consumer = log.consumer([RUN])
        assert consumer.position(tp) == 0

        consumer.seek(tp, 4)

        assert consumer.position(tp) == 4
        assert await read_all(consumer, 2) == appended[4:]
        assert consumer.position(tp) == 6
        consumer.seek(tp, 1)
        assert (await consumer.poll(max_records=1, timeout=5)) == [appended[1]]

    async def test_poll_returns_at_most_max_records(self, log: EventLog) -> None:
        await log.append([xcom(dag_id) for dag_id in SPREAD_DAG_IDS])
        consumer = log.consumer([RUN])

        sizes: list[int] = []
        while sum(sizes) < len(SPREAD_DAG_IDS):
            batch = await consumer.poll(max_records=7, timeout=5)
            assert batch
            sizes.append(len(batch))

        assert max(sizes) <= 7

    async def test_refuses_consumers_of_unknown_topics_and_foreign_partitions(self, log: EventLog) -> None:
        with pytest.raises(EventLogError, match="nope"):
            log.consumer(["nope"])
        with pytest.raises(EventLogError):
            log.consumer(RUN)
        with pytest.raises(EventLogError):
            log.consumer([])
        consumer = log.consumer([RUN], group="g")
        await until(lambda: consumer.assignment == ALL_RUN_PARTITIONS, [consumer])
        foreign = TopicPartition(TASK_QUEUE, 0)
        with pytest.raises(EventLogError):
            consumer.seek(foreign, 0)
        with pytest.raises(EventLogError):
            await consumer.commit({foreign: 1})

    # Waiting.

    async def test_a_waiting_poll_wakes_when_another_task_appends(self, log: EventLog) -> None:
        consumer = log.consumer([RUN])
        waiting = asyncio.create_task(consumer.poll(timeout=10))
        await asyncio.sleep(0.2)
        assert not waiting.done()

        appended = await log.append([xcom()])
        appended_at = time.perf_counter()
        received = await waiting
        latency = time.perf_counter() - appended_at

        assert received == appended
        assert latency < WAKE_UP_S, f"poll woke {latency * 1000:.1f} ms after the append"

    async def test_a_waiting_poll_wakes_on_appends_through_another_log_instance(
        self, open_log: OpenLog
    ) -> None:
        reader = await open_log()
        writer = await open_log()
        consumer = reader.consumer([RUN])
        waiting = asyncio.create_task(consumer.poll(timeout=10))
        await asyncio.sleep(0.2)

        appended = await writer.append([xcom()])
        appended_at = time.perf_counter()
        received = await waiting
        latency = time.perf_counter() - appended_at

        assert received == appended
        assert latency < 0.5, f"poll woke {latency:.2f} s after another instance appended"

    async def test_poll_returns_nothing_when_its_timeout_passes(self, log: EventLog) -> None:
        consumer = log.consumer([RUN])
        started = time.perf_counter()

        assert await consumer.poll(timeout=0.2) == []

        assert 0.15 <= time.perf_counter() - started < 2.0
        assert await consumer.poll(timeout=0) == []

    async def test_an_idle_poll_does_not_spin(self, log: EventLog) -> None:
        consumer = log.consumer([RUN, TASK_QUEUE])
        # Whatever else this process runs in the background costs the same in both windows.
        cpu_before = time.process_time()
        await asyncio.sleep(0.5)
        background = time.process_time() - cpu_before

        cpu_before = time.process_time()
        assert await consumer.poll(timeout=0.5) == []
        polling = time.process_time() - cpu_before

        assert polling - background < 0.15, f"an idle half-second poll used {polling:.2f} s of CPU"

    # Closing.

    async def test_closed_consumers_and_logs_refuse_work(self, open_log: OpenLog) -> None:
        log = await open_log()
        consumer = log.consumer([RUN])
        waiting = asyncio.create_task(consumer.poll(timeout=10))
        await asyncio.sleep(0.05)

        await consumer.close()

        with pytest.raises(EventLogError):
            await waiting
        with pytest.raises(EventLogError):
            await consumer.poll(timeout=0)
        await log.close()
        with pytest.raises(EventLogError):
            await log.append([xcom()])
