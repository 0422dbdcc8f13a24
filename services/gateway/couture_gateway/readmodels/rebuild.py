"""Rebuilding the read models from offset 0 (``couture projections rebuild``), in parallel.

On PostgreSQL the ``run`` partitions are folded side by side: first the metadata topics (every
DAG version a run event names), then the ``run`` partitions, handed out one at a time, largest
first, to this process and to worker processes as each is free, each folded by a
:class:`Projector` of that partition committing its own batches and offsets; then one projector
of everything applies what was appended meanwhile. A run's rows are only written by its DAG's
partition, so no two processes touch the same rows, and the tables end as a serial replay leaves
them. Folding is CPU-bound Python, hence processes, not tasks.

SQLite stays serial: it lets one writer commit at a time, and fails a transaction that read
before another's commit, which every batch of a partition would be.

A failed partition leaves what was committed, each batch with its offsets: the next projector
(a gateway's, on start) applies the rest, or the rebuild is run again.
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import multiprocessing
import os
from collections.abc import AsyncIterator, Awaitable, Iterable, Iterator, Mapping
from multiprocessing.connection import Connection
from typing import Any, NamedTuple

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from couture_common.eventlog import EventLog, TopicPartition
from couture_common.eventlog.factory import open_event_log
from couture_common.topics import RUN
from couture_gateway.readmodels.migrations import (
    create_projected_tables,
    drop_projected_tables,
    open_readmodels,
)
from couture_gateway.readmodels.projector import Projector, log_ends


class RebuildError(RuntimeError):
    """A partition of a parallel rebuild failed; the message names it and the cause."""


async def rebuild(
    engine: AsyncEngine,
    log: EventLog,
    *,
    batch_size: int = 5000,
    pipelined: bool | None = None,
    workers: int | None = None,
) -> int:
    """Drop and recreate the read-model tables and replay the log from offset 0 into them.

    Stop any running projector on this database first: it would find its offsets gone and resume
    from the rebuilt ones. Returns how many records were applied.

    ``workers`` is how many processes fold the ``run`` partitions on PostgreSQL (this one
    included; default: one per CPU, at most one per partition holding events); SQLite takes 1.

    ``pipelined`` (``Projector.replay``) folds each batch while the previous one is written. By
    default it is on for PostgreSQL, whose server does the writing in its own process, and off for
    SQLite, whose writes run in this process and bind each row under the interpreter lock the fold
    holds: there the overlap measured slower than batches one after another.
    """
    sqlite = engine.dialect.name == "sqlite"
    if workers is None:
        workers = 1 if sqlite else os.cpu_count() or 1
    elif isinstance(workers, bool) or not isinstance(workers, int) or workers < 1:
        raise ValueError(f"workers must be an integer of at least 1, not {workers!r}")
    elif workers > 1 and sqlite:
        raise ValueError(
            f"workers: SQLite read models are rebuilt by one process (one writer at a time), not {workers}"
        )
    async with engine.begin() as conn:
        await drop_projected_tables(conn)
        await create_projected_tables(conn)
    with _bulk_gc():
        total = await _replay_in_parallel(engine, log, batch_size, pipelined, workers) if workers > 1 else 0
        # Everything else: all of it when serial; after a parallel replay, what was appended meanwhile.
        return total + await _replay(engine, log, batch_size, pipelined)


def largest_first(sizes: Mapping[TopicPartition, int]) -> list[TopicPartition]:
    """The order partitions are handed out in: the longest first, so none is left to fold alone at
    the end while the other processes idle."""
    return sorted(sizes, key=lambda tp: (-sizes[tp], tp))


class _Job(NamedTuple):
    """What a worker process needs (sent to it through a pipe, never logged)."""

    database_url: str
    log_url: str
    targets: dict[TopicPartition, int]
    batch_size: int
    pipelined: bool | None


async def _replay_in_parallel(
    engine: AsyncEngine, log: EventLog, batch_size: int, pipelined: bool | None, workers: int
) -> int:
    """Fold the metadata, then hand the ``run`` partitions out one at a time, to this process and
    to the workers, as each is free; returns how many records were applied.

    Handed out, not split up front: a worker starts folding only once its process is up (the first
    waits for the fork server's imports) while this one is already at work.
    """
    targets = await log_ends(log)
    pending = largest_first({tp: end for tp, end in targets.items() if tp.topic == RUN and end > 0})
    if len(pending) < 2:
        return 0
    database_url = engine.url.render_as_string(hide_password=False)
    job = _Job(database_url, log.url, targets, batch_size, pipelined)
    async with _Workers(job, min(workers, len(pending)) - 1) as others:
        # The workers start (and connect) while the metadata every partition needs is applied here.
        metadata = frozenset(tp for tp in targets if tp.topic != RUN)
        total = await _replay(engine, log, batch_size, pipelined, partitions=metadata, targets=targets)
        here = _replay_here(engine, log, job, pending)
        counts = await _all_or_none(here, others.serve(pending))
    return total + sum(counts)


async def _all_or_none(*steps: Awaitable[int]) -> list[int]:
    """``gather``, except that the first failure cancels the other steps, and waits for them, before
    it is raised: nothing is left folding, or reading a worker's pipe, once the rebuild ends."""
    tasks = [asyncio.ensure_future(step) for step in steps]
    try:
        return await asyncio.gather(*tasks)
    except BaseException:
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        raise


async def _replay_here(engine: AsyncEngine, log: EventLog, job: _Job, pending: list[TopicPartition]) -> int:
    applied = 0
    while pending:
        tp = pending.pop(0)
        try:
            applied += await _replay_partition(engine, log, job, tp)
        except Exception as exc:
            raise RebuildError(f"rebuilding {_describe({tp})} failed: {type(exc).__name__}: {exc}") from exc
    return applied


async def _replay_partition(engine: AsyncEngine, log: EventLog, job: _Job, tp: TopicPartition) -> int:
    """Fold one ``run`` partition up to the rebuild's targets, here or in a worker."""
    return await _replay(
        engine, log, job.batch_size, job.pipelined, partitions=frozenset({tp}), targets=job.targets
    )


async def _replay(
    engine: AsyncEngine,
    log: EventLog,
    batch_size: int,
    pipelined: bool | None,
    *,
    partitions: frozenset[TopicPartition] | None = None,
    targets: Mapping[TopicPartition, int] | None = None,
) -> int:
    async with engine.connect() as conn, _without_sync(conn):
        projector = Projector(engine, log, batch_size=batch_size, connection=conn, partitions=partitions)
        if pipelined is None:
            pipelined = conn.dialect.name != "sqlite"
        await projector.start()
        try:
            return await (projector.replay(targets) if pipelined else projector.catch_up(targets))
        finally:
            await projector.close()


# --- Worker processes --------------------------------------------------------------------------------

#: Modules every worker loads besides this one (the drivers): imported once, by the fork server
#: while this process already folds, not by each worker after its fork.
_WORKER_IMPORTS = ("couture_common.eventlog.kafka", "sqlalchemy.dialects.postgresql.asyncpg", "asyncpg")

#: How long a worker told to stop may take before it is terminated.
_STOP_WAIT_S = 10.0


class _Worker:
    """A worker process and this side of its pipe.

    It asks ``("next", applied)`` (records applied from the partition it was last given) and is
    answered a partition, or None to end; a failure it reports as ``("failed", reason)``.
    """

    def __init__(self, process: Any, pipe: Connection) -> None:
        self.process = process
        self.pipe = pipe
        self.folding: TopicPartition | None = None

    async def serve(self, pending: list[TopicPartition]) -> int:
        """Hand it partitions until none is left; how many records it applied."""
        applied = 0
        while True:
            kind, value = await self._message()
            if kind != "next":
                raise RebuildError(f"rebuilding {self._doing} failed: {value}")
            applied += int(value)
            self.folding = pending.pop(0) if pending else None
            try:
                self.pipe.send(self.folding)
            except OSError:
                # It ended while asking: what it reported next is why.
                kind, value = await self._message()
                raise RebuildError(f"rebuilding {self._doing} failed: {value}") from None
            if self.folding is None:
                return applied

    @property
    def _doing(self) -> str:
        return "its start" if self.folding is None else _describe({self.folding})

    async def _message(self) -> tuple[str, Any]:
        try:
            kind, value = await _receive(self.pipe)
        except (EOFError, OSError):
            await asyncio.to_thread(self.process.join, _STOP_WAIT_S)
            raise RebuildError(
                f"the rebuild worker folding {self._doing} exited with code {self.process.exitcode}"
            ) from None
        return str(kind), value

    async def stop(self) -> None:
        """Close its pipe (a running worker cancels its fold on seeing that), then wait for it."""
        self.pipe.close()
        await asyncio.to_thread(self.process.join, _STOP_WAIT_S)
        if self.process.exitcode is None:
            self.process.kill()
            await asyncio.to_thread(self.process.join, _STOP_WAIT_S)


class _Workers:
    """``count`` worker processes, started in the background, served partitions by ``serve()``;
    stopped on the way out, whatever happened.

    They are forked from a fork server that imported this module once: a worker costs a fork, not
    an interpreter's start, and inherits no thread, socket or event loop of this process.
    """

    def __init__(self, job: _Job, count: int) -> None:
        self._job = job
        self._count = count
        self._started: list[_Worker] = []
        self._starting: asyncio.Task[None] | None = None

    async def __aenter__(self) -> _Workers:
        self._starting = asyncio.create_task(self._start())
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        if self._starting is not None:
            # Not cancellable half-way (a start runs in a thread): let it end, then stop them all.
            await asyncio.wait([self._starting])
        await asyncio.gather(*(worker.stop() for worker in self._started))

    async def serve(self, pending: list[TopicPartition]) -> int:
        """Hand each worker partitions from ``pending`` as it asks, once it is up; how many records
        they applied."""
        if self._starting is None:
            raise RuntimeError("_Workers.serve() needs `async with _Workers(...)`")
        await asyncio.shield(self._starting)
        return sum(await _all_or_none(*(worker.serve(pending) for worker in self._started)))

    async def _start(self) -> None:
        context = multiprocessing.get_context("forkserver")
        context.set_forkserver_preload([__name__, *_WORKER_IMPORTS])
        for _ in range(self._count):
            here, there = context.Pipe()
            process = context.Process(
                target=_work, args=(there, self._job), name="couture-rebuild", daemon=True
            )
            # The first start waits for the fork server's imports: not on the event loop's thread.
            await asyncio.to_thread(process.start)
            there.close()
            self._started.append(_Worker(process, here))


def _work(pipe: Connection, job: _Job) -> None:
    """A worker process's body: fold the partitions it is given, one at a time."""
    try:
        asyncio.run(_replay_given(pipe, job))
    except BaseException as exc:  # reported to the parent, which raises it
        with contextlib.suppress(OSError):
            pipe.send(("failed", f"{type(exc).__name__}: {exc}"))


async def _replay_given(pipe: Connection, job: _Job) -> None:
    engine = await open_readmodels(job.database_url, migrate_schema=False)
    log = open_event_log(job.log_url, client_id="couture-rebuild")
    applied = 0
    try:
        await log.start()
        with _bulk_gc():
            while True:
                pipe.send(("next", applied))
                tp = await _receive(pipe)
                if tp is None:
                    return
                # The parent closes the pipe to stop this worker, or dies: either way, stop folding.
                with _cancelled_when_readable(pipe):
                    applied = await _replay_partition(engine, log, job, tp)
    finally:
        await log.close()
        await engine.dispose()


async def _receive(pipe: Connection) -> Any:
    """The next message on ``pipe``, waited for on the event loop; ``EOFError`` once it is closed."""
    loop = asyncio.get_running_loop()
    readable: asyncio.Future[None] = loop.create_future()

    def ready() -> None:
        if not readable.done():
            readable.set_result(None)

    loop.add_reader(pipe.fileno(), ready)
    try:
        await readable
    finally:
        loop.remove_reader(pipe.fileno())
    return pipe.recv()


@contextlib.contextmanager
def _cancelled_when_readable(pipe: Connection) -> Iterator[None]:
    loop = asyncio.get_running_loop()
    task = asyncio.current_task()
    if task is None:
        raise RuntimeError("_cancelled_when_readable needs a task")

    def cancel() -> None:
        loop.remove_reader(pipe.fileno())
        task.cancel()

    loop.add_reader(pipe.fileno(), cancel)
    try:
        yield
    finally:
        loop.remove_reader(pipe.fileno())


def _describe(partitions: Iterable[TopicPartition]) -> str:
    by_topic: dict[str, list[int]] = {}
    for tp in sorted(partitions):
        by_topic.setdefault(tp.topic, []).append(tp.partition)
    return ", ".join(f"{topic}[{','.join(map(str, numbers))}]" for topic, numbers in by_topic.items())


# --- Process tuning while a rebuild runs ---------------------------------------------------------------


@contextlib.contextmanager
def _bulk_gc() -> Iterator[None]:
    """Fewer, cheaper garbage collections while a rebuild replays (restored afterwards).

    A replay allocates millions of short-lived rows and few reference cycles. At the default
    thresholds the collector runs every 700 allocations and its older passes walk every object
    the process holds: ~15% of a rebuild's CPU. Here the objects that exist before the rebuild are
    frozen out of its passes, and young collections run every 100,000 allocations instead.
    Process-wide, like the rebuild itself (``couture projections rebuild``, with no server running).
    """
    thresholds = gc.get_threshold()
    gc.freeze()
    gc.set_threshold(100_000, 50, 1000)
    try:
        yield
    finally:
        gc.set_threshold(*thresholds)
        gc.unfreeze()


@contextlib.asynccontextmanager
async def _without_sync(conn: AsyncConnection) -> AsyncIterator[None]:
    """On SQLite, ``conn`` commits without waiting for the disk while a rebuild replays.

    Each batch stays atomic with its offsets; only a power cut during the rebuild may lose or
    damage what it wrote, and the rebuild is run again. The setting is restored afterwards.
    """
    if conn.dialect.name != "sqlite":
        yield
        return
    before = int(await conn.scalar(sa.text("PRAGMA synchronous")) or 0)
    await conn.exec_driver_sql("PRAGMA synchronous=OFF")
    await conn.commit()
    try:
        yield
    finally:
        await conn.exec_driver_sql(f"PRAGMA synchronous={before}")
        await conn.commit()
