"""The one writer of a SQLite event log: a thread that group-commits every write of the process.

Callers on any thread or event loop queue jobs (appends, group commits, prunes). The thread takes
every job waiting, runs each in its own savepoint inside one transaction and commits once, so
concurrent callers share one fsync while each caller's batch stays all-or-nothing: a job that
fails is rolled back to its savepoint and fails alone.

Offsets come from an in-memory copy of ``partition_ends``, re-read whenever another connection
(another process) committed since this one last wrote.
"""

from __future__ import annotations

import logging
import queue
import sqlite3
import threading
from collections import Counter
from collections.abc import Callable, Mapping
from concurrent.futures import Future
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal, NamedTuple

from couture_common.eventlog._sqlite_store import (
    INSERT_EVENT,
    UPSERT_END,
    UPSERT_GROUP_OFFSET,
    Ends,
    EventRow,
    connect,
    create_schema,
    load_ends,
)
from couture_common.eventlog.port import EventLogError, TopicPartition
from couture_common.topics import TopicSpec

logger = logging.getLogger(__name__)

_WAL_SIZE_LIMIT = 64 * 1024 * 1024
_DELETE_OLDER = "DELETE FROM events WHERE topic = ? AND time < ?"

#: Most jobs one transaction takes, so one flood of appends cannot hold a huge transaction open.
MAX_JOBS_PER_TRANSACTION = 512


class AppendJob(NamedTuple):
    rows: list[EventRow]


class CommitJob(NamedTuple):
    group: str
    offsets: dict[TopicPartition, int]


class PruneJob(NamedTuple):
    #: Per topic, delete events whose time (epoch microseconds) is before this.
    cutoffs: dict[str, int]


Job = AppendJob | CommitJob | PruneJob


@dataclass(slots=True)
class _Pending:
    job: Job
    future: Future[Any]


class Writer:
    """Owns the write connection; ``on_commit`` hears the new ends of partitions appended to."""

    def __init__(
        self,
        path: Path,
        topics: Mapping[str, TopicSpec],
        sync: Literal["full", "normal"],
        on_commit: Callable[[Ends], None],
    ) -> None:
        self._path = path
        self._topics = topics
        self._sync = sync
        self._on_commit = on_commit
        self._queue: queue.SimpleQueue[_Pending | None] = queue.SimpleQueue()
        self._lock = threading.Lock()
        self._closed = False
        self._ends: Ends = {}
        self._data_version = 0
        self._thread = threading.Thread(target=self._run, name=f"eventlog-writer:{path.name}", daemon=True)
        self._ready: Future[None] = Future()

    def start(self) -> Future[None]:
        """Open the file and create the schema on the writer thread; the future says when it is done."""
        self._thread.start()
        return self._ready

    def submit(self, job: Job) -> Future[Any]:
        future: Future[Any] = Future()
        with self._lock:
            if self._closed:
                raise EventLogError(f"the event log {self._path} is closed")
            self._queue.put(_Pending(job, future))
        return future

    def stop(self) -> None:
        """Finish the queued jobs, then close the connection. Blocks; call it off the event loop."""
        with self._lock:
            if self._closed:
                return
            self._closed = True
            self._queue.put(None)
        if self._thread.is_alive():
            self._thread.join()

    def _run(self) -> None:
        try:
            conn = connect(self._path, read_only=False)
        except EventLogError as exc:
            self._refuse(exc)
            return
        try:
            conn.execute(f"PRAGMA synchronous = {self._sync.upper()}")
            # After a checkpoint the -wal file shrinks back to this size instead of keeping its peak.
            conn.execute(f"PRAGMA journal_size_limit = {_WAL_SIZE_LIMIT}")
            create_schema(conn, self._path, self._topics)
            self._data_version = conn.execute("PRAGMA data_version").fetchone()[0]
            self._ends = load_ends(conn)
        except (sqlite3.Error, EventLogError) as exc:
            conn.close()
            if isinstance(exc, sqlite3.Error):
                exc = EventLogError(f"cannot use {self._path} as an event log: {exc}")
            self._refuse(exc)
            return
        self._ready.set_result(None)
        try:
            stopping = False
            while not stopping:
                batch, stopping = self._take()
                if batch:
                    self._write(conn, batch)
        finally:
            conn.close()

    def _refuse(self, error: EventLogError) -> None:
        with self._lock:
            self._closed = True
        self._ready.set_exception(error)

    def _take(self) -> tuple[list[_Pending], bool]:
        """Wait for a job, then take every job already waiting; says whether ``stop`` was called."""
        first = self._queue.get()
        if first is None:
            return [], True
        taken = [first]
        stopping = False
        while len(taken) < MAX_JOBS_PER_TRANSACTION:
            try:
                item = self._queue.get_nowait()
            except queue.Empty:
                break
            if item is None:
                stopping = True
                break
            taken.append(item)
        # A caller that was cancelled before its job started gets nothing written.
        return [p for p in taken if p.future.set_running_or_notify_cancel()], stopping

    def _write(self, conn: sqlite3.Connection, batch: list[_Pending]) -> None:
        outcomes: list[tuple[_Pending, Any, Exception | None]] = []
        staged: Ends = {}
        try:
            conn.execute("BEGIN IMMEDIATE")
            data_version = conn.execute("PRAGMA data_version").fetchone()[0]
            if data_version != self._data_version:
                self._ends = load_ends(conn)
                self._data_version = data_version
            # A lone job needs no savepoint: the transaction itself is its all-or-nothing.
            shared = len(batch) > 1
            for pending in batch:
                if shared:
                    conn.execute("SAVEPOINT job")
                try:
                    result, ends = self._apply(conn, pending.job, staged)
                except sqlite3.IntegrityError as exc:
                    conn.execute("ROLLBACK TO job" if shared else "ROLLBACK")
                    outcomes.append((pending, None, self._explain(conn, pending.job, exc)))
                else:
                    staged.update(ends)
                    outcomes.append((pending, result, None))
                if shared:
                    conn.execute("RELEASE job")
            if conn.in_transaction:
                if staged:
                    conn.executemany(
                        UPSERT_END, [(tp.topic, tp.partition, end) for tp, end in staged.items()]
                    )
                conn.execute("COMMIT")
        except Exception as exc:
            logger.exception("event log write to %s failed; its transaction was rolled back", self._path)
            self._recover(conn)
            for pending in batch:
                pending.future.set_exception(EventLogError(f"could not write to the event log: {exc}"))
            return
        self._ends.update(staged)
        if staged:
            self._on_commit(staged)
        for pending, result, error in outcomes:
            if error is None:
                pending.future.set_result(result)
            else:
                pending.future.set_exception(error)

    def _recover(self, conn: sqlite3.Connection) -> None:
        try:
            if conn.in_transaction:
                conn.execute("ROLLBACK")
        except sqlite3.Error:
            logger.exception("rolling back the failed event log transaction failed")
        # The next transaction re-reads the partition ends.
        self._data_version = -1

    def _apply(self, conn: sqlite3.Connection, job: Job, staged: Ends) -> tuple[Any, Ends]:
        if isinstance(job, AppendJob):
            ends: Ends = {}
            offsets = []
            params = []
            for row in job.rows:
                tp = TopicPartition(row.topic, row.partition)
                offset = ends.get(tp)
                if offset is None:
                    offset = staged.get(tp)
                    if offset is None:
                        offset = self._ends.get(tp, 0)
                ends[tp] = offset + 1
                offsets.append(offset)
                params.append((row.topic, row.partition, offset, *row[2:]))
            conn.executemany(INSERT_EVENT, params)
            return offsets, ends
        if isinstance(job, CommitJob):
            conn.executemany(
                UPSERT_GROUP_OFFSET,
                [(job.group, tp.topic, tp.partition, offset) for tp, offset in job.offsets.items()],
            )
            return None, {}
        deleted = 0
        for topic, cutoff in job.cutoffs.items():
            deleted += conn.execute(_DELETE_OLDER, (topic, cutoff)).rowcount
        return deleted, {}

    @staticmethod
    def _explain(conn: sqlite3.Connection, job: Job, exc: sqlite3.IntegrityError) -> EventLogError:
        if isinstance(job, AppendJob):
            ids = [row.id for row in job.rows]
            twice = sorted(id_ for id_, n in Counter(ids).items() if n > 1)
            if twice:
                return EventLogError(f"the batch holds event ids more than once: {', '.join(twice[:5])}")
            present: list[str] = []
            for start in range(0, len(ids), 500):
                chunk = ids[start : start + 500]
                marks = ", ".join("?" * len(chunk))
                present += [r[0] for r in conn.execute(f"SELECT id FROM events WHERE id IN ({marks})", chunk)]
            if present:
                listed = ", ".join(sorted(present)[:5])
                return EventLogError(f"events already in the log, batch refused: {listed}")
        return EventLogError(f"the event log refused the write: {exc}")
