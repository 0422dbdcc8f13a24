"""The event log in one SQLite file: the standalone deployment's adapter of the log port.

* Writes go through one writer thread that group-commits (``_sqlite_writer``): concurrent appends
  from any thread or event loop share a transaction and an fsync, each batch all-or-nothing.
* Reads run on a small pool of reader threads, each with its own connection, and decode there.
* A poll waits on a :class:`ChangeNotifier`; the writer wakes it after each commit, and a watch on
  the ``-wal`` file wakes it when another process appended to the same file.
* Consumer groups are coordinated inside this instance (range assignment, rebalanced on join and
  leave; partitions move once their losing member's ``on_revoked`` listener returned); committed
  offsets live in the file, so they survive restarts and are shared with every process using it.
  Members in different processes do not split partitions with each other.
* Retention is :meth:`SqliteEventLog.prune`; compacted topics keep every event here (a fold keeps
  the newest per key either way).
"""

from __future__ import annotations

import asyncio
import itertools
import logging
import sqlite3
import threading
from collections.abc import Awaitable, Callable, Collection, Mapping, Sequence
from concurrent.futures import Future, ThreadPoolExecutor, wait
from datetime import datetime, timedelta
from pathlib import Path
from types import TracebackType
from typing import Any, Literal, Self, TypeVar

from couture_common.eventlog._file_watch import WalWatcher
from couture_common.eventlog._groups import ConsumerGroups
from couture_common.eventlog._notify import ChangeNotifier
from couture_common.eventlog._sqlite_store import (
    Ends,
    ReadResult,
    committed_offset,
    connect,
    encode_rows,
    load_ends,
    read_records,
    to_micros,
)
from couture_common.eventlog._sqlite_writer import AppendJob, CommitJob, Job, PruneJob, Writer
from couture_common.eventlog.port import (
    EventLogError,
    Record,
    RevokedListener,
    TopicPartition,
    check_listener,
    check_offset,
    check_poll_arguments,
    group_less_partitions,
)
from couture_common.events import Envelope
from couture_common.topics import TOPICS, TopicSpec

logger = logging.getLogger(__name__)

T = TypeVar("T")

_READ_THREADS = 4
#: Memory-mapped reads spare a copy per page on replay; address space only, not resident memory.
_MMAP_BYTES = 256 * 1024 * 1024


class SqliteEventLog:
    """The log port on a SQLite file in WAL mode; safe to use from several threads and event loops.

    ``sync="full"`` fsyncs every commit (an acknowledged append survives power loss);
    ``"normal"`` survives a crash of the process but may lose the last commits on power loss.
    """

    def __init__(
        self,
        path: Path,
        *,
        topics: Mapping[str, TopicSpec] = TOPICS,
        sync: Literal["full", "normal"] = "full",
    ) -> None:
        if sync not in ("full", "normal"):
            raise EventLogError(f"sync must be 'full' or 'normal', not {sync!r}")
        for name, spec in topics.items():
            if spec.name != name:
                raise EventLogError(f"topics[{name!r}] describes topic {spec.name!r}")
            if spec.partitions < 1:
                raise EventLogError(f"topic {name!r}: partitions must be at least 1, not {spec.partitions}")
        self.path = Path(path)
        self._topics = dict(topics)
        self._notifier = ChangeNotifier()
        self._groups = ConsumerGroups({name: spec.partitions for name, spec in self._topics.items()})
        self._writer = Writer(self.path, self._topics, sync, self._appended)
        self._watcher = WalWatcher(self.path, self._check_other_processes)
        self._readers = ThreadPoolExecutor(_READ_THREADS, f"eventlog-read:{self.path.name}")
        self._local = threading.local()
        self._connections: list[sqlite3.Connection] = []
        self._meta: sqlite3.Connection | None = None
        self._meta_lock = threading.Lock()
        self._seen_ends: Ends = {}
        self._seen_lock = threading.Lock()
        self._lock = threading.Lock()
        self._opening: Future[None] | None = None
        self._open = False
        self._closed = False
        self._consumers: set[SqliteConsumer] = set()
        self._member_ids = itertools.count()

    @property
    def topics(self) -> Mapping[str, TopicSpec]:
        return self._topics

    @property
    def url(self) -> str:
        return f"sqlite:///{self.path.resolve()}"

    async def start(self) -> None:
        with self._lock:
            if self._closed:
                raise EventLogError(f"the event log {self.path} is closed")
            if self._opening is None:
                self._opening = self._readers.submit(self._start_sync)
            opening = self._opening
        await asyncio.shield(asyncio.wrap_future(opening))

    async def __aenter__(self) -> Self:
        await self.start()
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.close()

    async def append(self, envelopes: Sequence[Envelope]) -> list[Record]:
        """Durably append a batch, all or nothing; a bad envelope refuses the batch by its index.

        Cancelling the call before the writer took the batch writes nothing; after, it completes.
        """
        if not envelopes:
            return []
        self._require_open()
        rows = encode_rows(envelopes, self._topics)
        offsets: list[int] = await self._write(AppendJob(rows))
        return [
            Record(row.topic, row.partition, offset, env)
            for row, offset, env in zip(rows, offsets, envelopes, strict=True)
        ]

    def consumer(
        self,
        topics: Sequence[str],
        *,
        group: str | None = None,
        on_revoked: RevokedListener | None = None,
        partitions: Collection[TopicPartition] | None = None,
    ) -> SqliteConsumer:
        self._require_open()
        if isinstance(topics, str):
            raise EventLogError(f"topics must be a sequence of topic names, not the string {topics!r}")
        names = tuple(sorted(set(topics)))
        if not names:
            raise EventLogError("a consumer needs at least one topic")
        unknown = [name for name in names if name not in self._topics]
        if unknown:
            raise EventLogError(f"unknown topics {unknown}; this log has {sorted(self._topics)}")
        if group is not None and not group:
            raise EventLogError("group must be a non-empty name, or None for a consumer without a group")
        check_listener(group, on_revoked)
        chosen = group_less_partitions(
            names, partitions, group, {name: spec.partitions for name, spec in self._topics.items()}
        )
        consumer = SqliteConsumer(self, next(self._member_ids), names, group, on_revoked)
        with self._lock:
            self._consumers.add(consumer)
        if group is None:
            consumer.assign(chosen)
        else:
            self._groups.join(group, consumer)
            self._notifier.notify(names)
        return consumer

    async def end_offsets(self, topic: str) -> dict[int, int]:
        self._require_open()
        spec = self._topics.get(topic)
        if spec is None:
            raise EventLogError(f"unknown topic {topic!r}; this log has {sorted(self._topics)}")
        ends = await self._read_off_loop(load_ends)
        return {p: ends.get(TopicPartition(topic, p), 0) for p in range(spec.partitions)}

    async def prune(self, now: datetime) -> int:
        """Delete events older than their topic's ``retention_hours``; returns how many went.

        Offsets are never reused: a partition whose events all went keeps counting from its end.
        """
        self._require_open()
        if now.tzinfo is None:
            raise EventLogError("prune: 'now' must be timezone-aware")
        cutoffs = {
            name: to_micros(now - timedelta(hours=spec.retention_hours))
            for name, spec in self._topics.items()
            if spec.retention_hours is not None
        }
        if not cutoffs:
            return 0
        deleted: int = await self._write(PruneJob(cutoffs))
        return deleted

    async def close(self) -> None:
        with self._lock:
            if self._closed:
                return
            self._closed = True
            consumers = list(self._consumers)
            opening = self._opening
        for consumer in consumers:
            consumer._shut()
        self._notifier.notify_all()
        if opening is not None:
            await asyncio.to_thread(self._close_sync, opening)
        else:
            self._readers.shutdown()

    # Used by SqliteConsumer, its partner in this module.

    async def _read(
        self, group: str | None, positions: Sequence[tuple[TopicPartition, int | None]], max_records: int
    ) -> ReadResult:
        """Records after ``positions``; a None position is the group's committed offset (or 0)."""
        return await self._read_off_loop(_read_from, group, positions, max_records)

    def _committed(self, group: str | None, tp: TopicPartition) -> int:
        if group is None:
            return 0
        self._require_open()
        assert self._meta is not None
        with self._meta_lock:
            return committed_offset(self._meta, group, tp)

    async def _commit(self, group: str, offsets: dict[TopicPartition, int]) -> None:
        await self._write(CommitJob(group, offsets))

    def _forget(self, consumer: SqliteConsumer) -> None:
        with self._lock:
            self._consumers.discard(consumer)

    # Machinery.

    def _require_open(self) -> None:
        if self._closed:
            raise EventLogError(f"the event log {self.path} is closed")
        if not self._open:
            raise EventLogError(f"the event log {self.path} is not started; await start() first")

    async def _write(self, job: Job) -> Any:
        return await asyncio.wrap_future(self._writer.submit(job))

    async def _read_off_loop(self, fn: Callable[..., T], *args: Any) -> T:
        try:
            future = self._readers.submit(self._with_reader, fn, *args)
        except RuntimeError:
            raise EventLogError(f"the event log {self.path} is closed") from None
        return await asyncio.wrap_future(future)

    def _with_reader(self, fn: Callable[..., T], *args: Any) -> T:
        conn: sqlite3.Connection | None = getattr(self._local, "conn", None)
        if conn is None:
            conn = self._local.conn = self._connect_reader()
        return fn(conn, *args)

    def _connect_reader(self) -> sqlite3.Connection:
        conn = connect(self.path, read_only=True)
        conn.execute(f"PRAGMA mmap_size = {_MMAP_BYTES}")
        with self._lock:
            self._connections.append(conn)
        return conn

    def _start_sync(self) -> None:
        self._writer.start().result()
        self._meta = self._connect_reader()
        self._advance_seen(load_ends(self._meta))
        self._watcher.start()
        self._open = True

    def _close_sync(self, opening: Future[None]) -> None:
        # A close that raced start() lets the start finish before tearing down what it opened.
        wait([opening])
        self._watcher.stop()
        self._writer.stop()
        self._readers.shutdown(wait=True)
        with self._lock:
            connections, self._connections = self._connections, []
        for conn in connections:
            conn.close()

    def _appended(self, ends: Ends) -> None:
        """Called on the writer thread after each commit that appended."""
        self._notifier.notify(self._advance_seen(ends))

    def _check_other_processes(self) -> None:
        """Called on the watcher thread when the file changed or a re-check is due."""
        if self._meta is None:
            return
        try:
            with self._meta_lock:
                ends = load_ends(self._meta)
        except sqlite3.Error:
            logger.exception("reading the partition ends of %s failed", self.path)
            return
        self._notifier.notify(self._advance_seen(ends))

    def _advance_seen(self, ends: Ends) -> set[str]:
        """Record partition ends; returns the topics that grew since last seen, to wake once each."""
        grown = set()
        with self._seen_lock:
            for tp, end in ends.items():
                if end > self._seen_ends.get(tp, 0):
                    self._seen_ends[tp] = end
                    grown.add(tp.topic)
        return grown


def _read_from(
    conn: sqlite3.Connection,
    group: str | None,
    positions: Sequence[tuple[TopicPartition, int | None]],
    max_records: int,
) -> ReadResult:
    resolved = [
        (tp, position if position is not None else committed_offset(conn, group, tp) if group else 0)
        for tp, position in positions
    ]
    return read_records(conn, resolved, max_records)


class SqliteConsumer:
    """Reads topics of a :class:`SqliteEventLog`; used from one task at a time, like Kafka's consumer."""

    def __init__(
        self,
        log: SqliteEventLog,
        member_id: int,
        topics: tuple[str, ...],
        group: str | None,
        on_revoked: RevokedListener | None = None,
    ):
        self._log = log
        self._on_revoked = on_revoked
        self._member_id = member_id
        self._topics = topics
        self._topic_set = frozenset(topics)
        self._group = group
        self._assignment: frozenset[TopicPartition] = frozenset()
        self._positions: dict[TopicPartition, int] = {}
        self._seeks = 0
        self._rotation = 0
        self._polling = False
        self._closed = False

    @property
    def member_id(self) -> int:
        return self._member_id

    @property
    def topics(self) -> frozenset[str]:
        return self._topic_set

    @property
    def group(self) -> str | None:
        return self._group

    @property
    def assignment(self) -> frozenset[TopicPartition]:
        return self._assignment

    def assign(self, partitions: frozenset[TopicPartition]) -> None:
        # Replaced whole (from any thread): a poll in flight notices by identity and reads again,
        # a waiting one once woken.
        self._assignment = partitions
        self._log._notifier.notify(self._topics)

    def revoke(self, partitions: frozenset[TopicPartition]) -> Awaitable[None] | None:
        return None if self._on_revoked is None else self._on_revoked(partitions)

    async def poll(self, max_records: int = 1000, timeout: float | None = None) -> list[Record]:
        check_poll_arguments(max_records, timeout)
        if self._polling:
            raise EventLogError("this consumer is already polling; a consumer serves one task at a time")
        self._polling = True
        try:
            return await self._poll(max_records, timeout)
        finally:
            self._polling = False

    async def _poll(self, max_records: int, timeout: float | None) -> list[Record]:
        loop = asyncio.get_running_loop()
        deadline = None if timeout is None else loop.time() + timeout
        notifier = self._log._notifier
        while True:
            self._check_open()
            since = notifier.snapshot(self._topics)
            assignment, seeks = self._assignment, self._seeks
            for tp in [tp for tp in self._positions if tp not in assignment]:
                del self._positions[tp]
            result = await self._log._read(self._group, self._read_order(assignment), max_records)
            self._check_open()
            if self._assignment is not assignment or self._seeks != seeks:
                continue
            self._positions.update(result.positions)
            if result.records:
                return result.records
            if result.error is not None:
                raise result.error
            remaining = None if deadline is None else deadline - loop.time()
            if remaining is not None and remaining <= 0:
                return []
            await notifier.wait(self._topics, since, remaining)

    def _read_order(self, assignment: frozenset[TopicPartition]) -> list[tuple[TopicPartition, int | None]]:
        """Partitions from a rotating start, so a full partition cannot starve the others."""
        ordered = sorted(assignment)
        if not ordered:
            return []
        self._rotation = (self._rotation + 1) % len(ordered)
        ordered = ordered[self._rotation :] + ordered[: self._rotation]
        return [(tp, self._positions.get(tp)) for tp in ordered]

    def position(self, tp: TopicPartition) -> int:
        self._check_assigned(tp)
        position = self._positions.get(tp)
        if position is None:
            position = self._positions[tp] = self._log._committed(self._group, tp)
        return position

    def seek(self, tp: TopicPartition, offset: int) -> None:
        self._check_assigned(tp)
        check_offset(tp, offset)
        self._positions[tp] = offset
        self._seeks += 1
        self._log._notifier.notify([tp.topic])

    async def commit(self, offsets: Mapping[TopicPartition, int] | None = None) -> None:
        self._check_open()
        if self._group is None:
            return
        if offsets is None:
            chosen = {tp: pos for tp, pos in self._positions.items() if tp in self._assignment}
        else:
            for tp, offset in offsets.items():
                self._check_assigned(tp)
                check_offset(tp, offset)
            chosen = dict(offsets)
        if chosen:
            await self._log._commit(self._group, chosen)

    async def close(self) -> None:
        self._shut()

    def _shut(self) -> None:
        """Leave the group (its other members take over the partitions) and end any poll."""
        if self._closed:
            return
        self._closed = True
        if self._group is not None:
            self._log._groups.leave(self._group, self)
        self._log._forget(self)
        self._log._notifier.notify(self._topics)

    def _check_open(self) -> None:
        if self._closed:
            raise EventLogError("this consumer is closed")

    def _check_assigned(self, tp: TopicPartition) -> None:
        self._check_open()
        if tp not in self._assignment:
            raise EventLogError(f"{tp.topic}[{tp.partition}] is not assigned to this consumer")
