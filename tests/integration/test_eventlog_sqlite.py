"""The SQLite event log: the port's contract, plus what only a file shared by processes can show."""

from __future__ import annotations

import asyncio
import sqlite3
import sys
import time
from collections.abc import AsyncIterator, Mapping
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Literal

import msgspec
import pytest

from couture_common.eventlog import Consumer, EventLogError, TopicPartition, partition_for
from couture_common.eventlog.factory import open_event_log
from couture_common.eventlog.sqlite import SqliteEventLog
from couture_common.events import Envelope, TaskHeartbeat, UnknownEventError, encode_payload, envelope
from couture_common.topics import HEARTBEAT, RUN, TASK_QUEUE, TOPICS, TopicSpec
from tests.contract.eventlog_contract import (
    ALL_RUN_PARTITIONS,
    EventLogContract,
    by_partition,
    read_all,
    xcom,
)


class TestSqliteEventLogContract(EventLogContract):
    db_path: Path

    @pytest.fixture(autouse=True)
    def _database_file(self, tmp_path: Path) -> None:
        self.db_path = tmp_path / "events.db"

    def make_log(self, topics: Mapping[str, TopicSpec]) -> SqliteEventLog:
        return SqliteEventLog(self.db_path, topics=topics)


@pytest.fixture
async def log(tmp_path: Path) -> AsyncIterator[SqliteEventLog]:
    async with SqliteEventLog(tmp_path / "events.db") as opened:
        yield opened


def partitions_of(*consumers: Consumer) -> list[list[int]]:
    return [sorted(tp.partition for tp in c.assignment) for c in consumers]


# Another process on the same file.

_CHILD_APPENDS = """
import asyncio, sys, time
from pathlib import Path
from couture_common.eventlog.sqlite import SqliteEventLog
from couture_common.events import XComPushed, envelope

async def main(path, batches):
    async with SqliteEventLog(Path(path)) as log:
        for n in range(batches):
            batch = [
                envelope(XComPushed(dag_id=dag_id, run_id="r", task_id=f"child{n}", try_number=1,
                                    key="return_value", value="1"), actor="process:child")
                for dag_id in ("etl", "report")
            ]
            records = await log.append(batch)
            if n == 0:
                print("appending", flush=True)
        print(time.time(), records[0].partition, records[0].offset, flush=True)

asyncio.run(main(sys.argv[1], int(sys.argv[2])))
"""


async def run_child(path: Path, batches: int) -> asyncio.subprocess.Process:
    return await asyncio.create_subprocess_exec(
        sys.executable, "-c", _CHILD_APPENDS, str(path), str(batches), stdout=asyncio.subprocess.PIPE
    )


async def test_an_append_by_another_process_wakes_a_waiting_poll(log: SqliteEventLog) -> None:
    await log.append([xcom("etl", task_id=f"t{i}") for i in range(3)])
    consumer = log.consumer([RUN])
    await read_all(consumer, 3)
    waiting = asyncio.create_task(consumer.poll(timeout=20))

    child = await run_child(log.path, 1)
    received = await waiting
    woke_at = time.time()
    stdout, _ = await child.communicate()
    _, appended_at, partition, offset = stdout.split()

    assert child.returncode == 0
    assert woke_at - float(appended_at) < 0.5, "the file watch did not wake the poll"
    received += await consumer.poll(timeout=1)
    assert {r.envelope.actor for r in received} == {"process:child"}
    assert (int(partition), int(offset)) == (partition_for("etl", 8), 3)
    assert (await log.append([xcom("etl", task_id="after")]))[0].offset == 4


async def test_two_processes_appending_at_once_share_gapless_offsets(log: SqliteEventLog) -> None:
    child = await run_child(log.path, 300)
    assert child.stdout is not None
    assert await child.stdout.readline() == b"appending\n"
    mine = [
        await log.append([xcom("etl", task_id=f"p{i}"), xcom("report", task_id=f"p{i}")]) for i in range(100)
    ]
    await child.communicate()
    assert child.returncode == 0

    received = await read_all(log.consumer([RUN]), 800)

    for partition, offsets in by_partition(received).items():
        assert offsets == list(range(len(offsets))), f"partition {partition} has gaps or repeats"
    assert len({r.envelope.id for r in received}) == 800
    at = {(r.partition, r.offset): r.envelope for r in received}
    assert all(at[(r.partition, r.offset)] == r.envelope for call in mine for r in call)


# Threads and event loops.


async def test_appends_from_several_event_loops_share_gapless_offsets(log: SqliteEventLog) -> None:
    async def appender(worker: int) -> None:
        for i in range(25):
            await log.append([xcom(f"dag{i % 3}", task_id=f"w{worker}-{i}")])

    await asyncio.gather(
        *(asyncio.to_thread(asyncio.run, appender(w)) for w in range(4)),
        appender(4),
    )

    received = await read_all(log.consumer([RUN]), 125)
    for partition, offsets in by_partition(received).items():
        assert offsets == list(range(len(offsets))), f"partition {partition} has gaps or repeats"


async def test_in_process_appends_wake_polls_without_waiting_for_the_file_watch(log: SqliteEventLog) -> None:
    consumer = log.consumer([RUN])
    latencies = []
    for round_ in range(5):
        waiting = asyncio.create_task(consumer.poll(timeout=10))
        await asyncio.sleep(0.05)
        await log.append([xcom(task_id=f"t{round_}")])
        appended_at = time.perf_counter()
        await waiting
        latencies.append(time.perf_counter() - appended_at)

    # The file watch alone takes 20-40 ms; the writer's own wake-up is well under a millisecond.
    assert sorted(latencies)[2] < 0.01, f"wake-up latencies {latencies}"


async def test_a_poll_on_another_event_loop_wakes_on_append(log: SqliteEventLog) -> None:
    consumer = log.consumer([RUN])
    waiting = asyncio.ensure_future(asyncio.to_thread(asyncio.run, consumer.poll(timeout=10)))
    await asyncio.sleep(0.2)

    appended = await log.append([xcom()])
    appended_at = time.perf_counter()
    received = await waiting

    assert received == appended
    assert time.perf_counter() - appended_at < 0.05


# Consumer groups inside one process.


async def test_group_members_take_consecutive_ranges_in_join_order(log: SqliteEventLog) -> None:
    first, second, third = (log.consumer([RUN], group="scheduler") for _ in range(3))
    assert partitions_of(first, second, third) == [[0, 1, 2], [3, 4, 5], [6, 7]]

    await second.close()

    assert partitions_of(first, third) == [[0, 1, 2, 3], [4, 5, 6, 7]]
    await first.close()
    assert third.assignment == ALL_RUN_PARTITIONS


async def test_group_members_split_each_topic_among_its_subscribers(log: SqliteEventLog) -> None:
    both = log.consumer([RUN, TASK_QUEUE], group="executor")
    run_only = log.consumer([RUN], group="executor")

    assert both.assignment == {TopicPartition(RUN, p) for p in range(4)} | {
        TopicPartition(TASK_QUEUE, p) for p in range(8)
    }
    assert run_only.assignment == {TopicPartition(RUN, p) for p in range(4, 8)}


async def test_a_member_that_gains_partitions_wakes_and_reads_them(log: SqliteEventLog) -> None:
    first = log.consumer([RUN], group="scheduler")
    second = log.consumer([RUN], group="scheduler")
    key = next(d for d in (f"dag{i}" for i in range(50)) if partition_for(d, 8) < 4)
    appended = await log.append([xcom(key)])
    waiting = asyncio.create_task(second.poll(timeout=10))
    await asyncio.sleep(0.1)
    assert not waiting.done()

    await first.close()

    assert await asyncio.wait_for(waiting, 1) == appended


# Retention.


def heartbeat(at: datetime, try_number: int = 1) -> Envelope:
    beat = TaskHeartbeat(
        dag_id="etl",
        run_id="r1",
        task_id="load",
        try_number=try_number,
        executor_id="exec-1",
        pid=4242,
        at=at,
    )
    return envelope(beat, actor="service:executor", time=at)


async def test_prune_deletes_events_past_retention_and_never_reuses_offsets(tmp_path: Path) -> None:
    now = datetime(2024, 5, 2, 12, tzinfo=UTC)
    topics = {HEARTBEAT: TopicSpec(HEARTBEAT, 1, retention_hours=24), RUN: TopicSpec(RUN, 1)}
    path = tmp_path / "events.db"
    async with SqliteEventLog(path, topics=topics) as log:
        await log.append([heartbeat(now - timedelta(hours=30)), heartbeat(now - timedelta(hours=25))])
        fresh = await log.append([heartbeat(now - timedelta(hours=1))])
        old_run = envelope(xcom().payload, actor="service:executor", time=now - timedelta(days=30))
        await log.append([old_run])

        with pytest.raises(EventLogError, match="timezone-aware"):
            await log.prune(now.replace(tzinfo=None))
        assert await log.prune(now) == 2

        assert await read_all(log.consumer([HEARTBEAT]), 1) == fresh
        assert len(await read_all(log.consumer([RUN]), 1)) == 1
        assert await log.prune(now + timedelta(days=2)) == 1
        assert await log.end_offsets(HEARTBEAT) == {0: 3}
    async with SqliteEventLog(path, topics=topics) as reopened:
        assert (await reopened.append([heartbeat(now)]))[0].offset == 3


# Durability settings.


@pytest.mark.parametrize("sync", ["full", "normal"])
async def test_both_sync_modes_keep_appended_events_across_a_restart(
    tmp_path: Path, sync: Literal["full", "normal"]
) -> None:
    path = tmp_path / "events.db"
    async with SqliteEventLog(path, sync=sync) as log:
        appended = await log.append([xcom(task_id=f"t{i}") for i in range(5)])
    async with SqliteEventLog(path, sync=sync) as reopened:
        assert await read_all(reopened.consumer([RUN]), 5) == appended


def test_an_unknown_sync_mode_is_refused(tmp_path: Path) -> None:
    with pytest.raises(EventLogError, match="sync"):
        SqliteEventLog(tmp_path / "events.db", sync="off")  # type: ignore[arg-type]


async def test_a_file_made_with_other_partition_counts_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "events.db"
    async with SqliteEventLog(path):
        pass
    fewer = {**TOPICS, RUN: TopicSpec(RUN, 4)}

    log = SqliteEventLog(path, topics=fewer)
    with pytest.raises(EventLogError, match="'run' has 8 partitions"):
        await log.start()
    await log.close()


async def test_a_file_that_is_not_a_database_is_refused_by_name(tmp_path: Path) -> None:
    path = tmp_path / "notes.txt"
    path.write_text("shopping list: milk, eggs, flour, sugar, butter, " * 40)

    log = SqliteEventLog(path)
    with pytest.raises(EventLogError, match=f"cannot use {path} as an event log"):
        await log.start()
    await log.close()


# What gets into the log, and what comes out.


async def test_events_the_code_does_not_know_stop_the_consumer_loudly(log: SqliteEventLog) -> None:
    appended = await log.append([xcom(task_id="a"), xcom(task_id="b")])
    partition = appended[0].partition
    with sqlite3.connect(log.path) as db:
        for offset, type_, version in [(2, "run.from_the_future", 1), (3, "xcom.pushed", 99)]:
            db.execute(
                "INSERT INTO events VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (RUN, partition, offset, f"id-{offset}", type_, version, 0, "etl", "x", None, b"{}"),
            )
    consumer = log.consumer([RUN])

    assert await consumer.poll(timeout=1) == appended
    with pytest.raises(UnknownEventError, match=rf"run\[{partition}\] offset 2: unknown event type"):
        await consumer.poll(timeout=1)
    consumer.seek(TopicPartition(RUN, partition), 3)
    with pytest.raises(UnknownEventError, match=r"offset 3: .*version 99, newer"):
        await consumer.poll(timeout=1)


async def test_a_corrupt_payload_is_reported_with_its_position(log: SqliteEventLog) -> None:
    not_an_xcom = encode_payload(heartbeat(datetime.now(UTC)).payload)
    row = (RUN, 0, 0, "id-0", "xcom.pushed", 1, 0, "etl", "x", None, not_an_xcom)
    with sqlite3.connect(log.path) as db:
        db.execute("INSERT INTO events VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", row)

    with pytest.raises(EventLogError, match=r"run\[0\] offset 0: event 'xcom.pushed' v1 is corrupt"):
        await log.consumer([RUN]).poll(timeout=1)


async def test_an_event_id_already_in_the_log_refuses_its_whole_batch(log: SqliteEventLog) -> None:
    first = xcom()
    await log.append([first])

    with pytest.raises(EventLogError, match=f"already in the log.*{first.id}"):
        await log.append([xcom(task_id="new"), first])
    twice = xcom(task_id="twice")
    with pytest.raises(EventLogError, match=f"more than once: {twice.id}"):
        await log.append([twice, twice])

    assert sum((await log.end_offsets(RUN)).values()) == 1
    assert (await log.append([xcom(task_id="next")]))[0].offset == 1


async def test_one_callers_refused_batch_does_not_fail_concurrent_callers(log: SqliteEventLog) -> None:
    duplicate = xcom()
    await log.append([duplicate])
    doomed = xcom(task_id="doomed")

    outcomes = await asyncio.gather(
        *(log.append([xcom(task_id=f"ok{i}")]) for i in range(20)),
        log.append([doomed, duplicate]),
        return_exceptions=True,
    )

    assert [type(o) for o in outcomes].count(EventLogError) == 1
    received = await read_all(log.consumer([RUN]), 21)
    assert doomed.id not in {r.envelope.id for r in received}


async def test_envelopes_that_break_the_contract_are_refused(log: SqliteEventLog) -> None:
    naive = envelope(xcom().payload, actor="user:alice", time=datetime(2024, 5, 1))
    with pytest.raises(EventLogError, match=r"envelope 1 .* field 'time' must be timezone-aware"):
        await log.append([xcom(), naive])
    mislabelled = msgspec.structs.replace(xcom(), version=2)
    with pytest.raises(EventLogError, match="v2 do not match"):
        await log.append([mislabelled])
    assert sum((await log.end_offsets(RUN)).values()) == 0


async def test_a_log_must_be_started_and_consumers_used_by_one_task(tmp_path: Path) -> None:
    log = SqliteEventLog(tmp_path / "events.db")
    with pytest.raises(EventLogError, match="not started"):
        await log.append([xcom()])
    await log.start()
    await log.start()
    consumer = log.consumer([RUN])
    waiting = asyncio.create_task(consumer.poll(timeout=5))
    await asyncio.sleep(0.05)
    with pytest.raises(EventLogError, match="already polling"):
        await consumer.poll(timeout=0)
    await log.close()
    with pytest.raises(EventLogError):
        await waiting


# Choosing the adapter from COUTURE_EVENT_LOG.


@pytest.mark.parametrize("slashes", ["/", "//"])
async def test_a_sqlite_url_opens_a_log_in_a_new_folder(tmp_path: Path, slashes: str) -> None:
    path = tmp_path / "home" / "data" / "events.db"

    log = open_event_log(f"sqlite://{slashes}{path}", sync="normal")

    assert isinstance(log, SqliteEventLog) and log.path == path
    async with log:
        assert (await log.append([xcom()]))[0].offset == 0


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("redis://user:hunter2@cache:6379", "COUTURE_EVENT_LOG has the unsupported scheme 'redis'"),
        ("events.db", "COUTURE_EVENT_LOG must be a URL"),
        ("sqlite://events.db", "COUTURE_EVENT_LOG: a sqlite URL needs an absolute path"),
    ],
)
def test_event_log_urls_that_cannot_be_served_are_explained(url: str, message: str) -> None:
    with pytest.raises(EventLogError, match=message) as refused:
        open_event_log(url)
    assert "hunter2" not in str(refused.value)
