"""The projector: folds the event log into the read-model tables, exactly once per event.

Each polled batch is applied in ONE transaction together with the new offsets in
``projection_offsets``; a crash before the commit leaves both untouched and the batch is applied
again on restart, a crash after it leaves both written. The offsets are stored with a
compare-and-set, so a second projector on the same database can never apply a batch twice: the
loser rolls back and resumes from what the winner stored.

Ordering across topics: a run event may need the DAG version it names, which is on the ``dag``
topic. The projector polls ``run`` first and then reads ``dag`` and ``config`` to their ends, so
every DAG event appended before those run events is applied first, in the same transaction.
The ``audit`` topic is read along with ``dag`` and ``config``.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Collection, Iterable, Mapping, Sequence
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, AsyncTransaction

from couture_common.eventlog import Consumer, EventLog, Record, TopicPartition
from couture_common.topics import AUDIT, CONFIG, DAG, RUN
from couture_gateway.readmodels import fold, store
from couture_gateway.readmodels.changes import ChangeListener, notify, summarise
from couture_gateway.readmodels.positions import PROJECTED_TOPICS, all_partitions
from couture_gateway.readmodels.rowset import Change, RowSet, Scope
from couture_gateway.readmodels.tables import projection_offsets

logger = logging.getLogger(__name__)


class ConcurrentProjectionError(RuntimeError):
    """Another projector moved the stored offsets first; this batch was rolled back."""


def position_after(records: Iterable[Record]) -> dict[TopicPartition, int]:
    """The position a projector must reach for these records to be visible in the read models."""
    position: dict[TopicPartition, int] = {}
    for record in records:
        tp = TopicPartition(record.topic, record.partition)
        position[tp] = max(position.get(tp, 0), record.offset + 1)
    return position


async def apply_records(
    conn: AsyncConnection, records: Sequence[Record], *, carried: RowSet | None = None
) -> RowSet:
    """Fold ``records``, in order, into the tables within the caller's transaction (offsets aside).

    Returns the rows read and written; ``carried``, such a set from the previous batch, saves
    reading its scopes again (see ``store.load``).
    """
    rows = await store.load(conn, _scopes_of(records), carried=carried)
    for record in records:
        fold.apply(rows, record)
    await store.write(conn, rows.changes())
    return rows


def _scopes_of(records: Sequence[Record]) -> set[Scope]:
    # A run's events return one cached list of scopes: hash each list's scopes once, not per event.
    lists = {id(scopes): scopes for scopes in map(fold.scopes_for, records)}
    return set().union(*lists.values())


#: Records a pipelined replay folds between two turns of the event loop, which let the previous
#: batch's writes go on: about a millisecond of folding.
_FOLD_SLICE = 128


async def _fold_in_slices(rows: RowSet, records: Sequence[Record]) -> None:
    for start in range(0, len(records), _FOLD_SLICE):
        for record in records[start : start + _FOLD_SLICE]:
            fold.apply(rows, record)
        await asyncio.sleep(0)


async def stored_offsets(conn: AsyncConnection) -> dict[TopicPartition, int]:
    return _offsets(await conn.execute(sa.select(projection_offsets)))


def _offsets(rows: Iterable[sa.Row[Any]]) -> dict[TopicPartition, int]:
    return {TopicPartition(r.topic, r.partition): r.next_offset for r in rows}


#: Longest a step waits for metadata records it knows are in the log (bounds a stalled broker).
_META_WAIT = 1.0
#: How long a projector that lost a batch to another reads on to announce what the other applied.
_FOLLOW_WAIT = 10.0


class Projector:
    """Consumes ``dag``, ``config``, ``audit`` and ``run`` without a consumer group, from the stored offsets.

    ``batch_size`` bounds the records of one ``run`` poll (one transaction); ``idle_wait`` is how
    long a step waits for run events before it applies DAG and config events alone, which bounds
    the delay of a pause or a variable change.

    ``partitions`` narrows it to some partitions of those topics (a share of a parallel rebuild):
    it then reads, stores and guards only their offsets, so projectors of disjoint shares commit
    side by side. A share of ``run`` partitions folds correctly once the metadata its runs name is
    applied (a rebuild applies it first): a run's rows are written by its DAG's partition only.
    """

    def __init__(
        self,
        engine: AsyncEngine,
        log: EventLog,
        *,
        batch_size: int = 2000,
        idle_wait: float = 0.05,
        connection: AsyncConnection | None = None,
        partitions: Collection[TopicPartition] | None = None,
    ) -> None:
        every = all_partitions()
        self._partitions = frozenset(every if partitions is None else partitions)
        foreign = sorted(self._partitions.difference(every))
        if foreign:
            raise ValueError(f"partitions: {foreign} are not partitions of the projected topics")
        self._everything = self._partitions == frozenset(every)
        self._engine = engine
        # Batches run on this connection when given (a rebuild's, tuned for it), else on the pool's.
        self._connection = connection
        self._log = log
        self._batch_size = batch_size
        self._idle_wait = idle_wait
        self._stored: dict[TopicPartition, int] = {}
        self._applied_changed = asyncio.Condition()
        self._meta: Consumer | None = None
        self._runs: Consumer | None = None
        self._listeners: list[ChangeListener] = []
        # The rows the last committed batch read and wrote, as committed: the next batch takes the
        # scopes it shares from here, once it has checked that no other projector committed since.
        self._carried: RowSet | None = None

    def add_listener(self, listener: ChangeListener) -> None:
        """Call ``listener`` with what each committed batch changed; it must return at once."""
        self._listeners.append(listener)

    def remove_listener(self, listener: ChangeListener) -> None:
        self._listeners.remove(listener)

    def _of_topics(self, *topics: str) -> frozenset[TopicPartition] | None:
        """This projector's partitions of ``topics``; None (all of them) when it projects everything."""
        if self._everything:
            return None
        return frozenset(tp for tp in self._partitions if tp.topic in topics)

    @property
    def applied(self) -> Mapping[TopicPartition, int]:
        """Per partition, the offset of the next record to apply (everything before is visible)."""
        return dict(self._stored)

    async def start(self) -> None:
        await self._log.start()
        self._meta = self._log.consumer([DAG, CONFIG, AUDIT], partitions=self._of_topics(DAG, CONFIG, AUDIT))
        self._runs = self._log.consumer([RUN], partitions=self._of_topics(RUN))
        await self._resume()

    async def close(self) -> None:
        for consumer in (self._meta, self._runs):
            if consumer is not None:
                await consumer.close()
        self._meta = self._runs = None

    async def run(self, *, retry_delay: float = 0.5, max_retry_delay: float = 30.0) -> None:
        """Project forever.

        A database error that may pass (locked, connection lost) is logged and retried from the last
        commit, waiting longer each time up to ``max_retry_delay``; any other error propagates.
        """
        delay = retry_delay
        while True:
            try:
                await self.step()
            except (sa.exc.OperationalError, sa.exc.InterfaceError) as error:
                logger.warning("projecting failed, retrying in %.1f s: %s", delay, error.orig)
                await asyncio.sleep(delay)
                delay = min(delay * 2, max_retry_delay)
            else:
                delay = retry_delay

    async def step(self) -> int:
        """Poll once and apply what came; returns how many records were applied."""
        return await self._apply(await self._poll())

    async def _poll(self) -> list[Record]:
        """The next ``run`` batch, after the metadata records appended before it."""
        meta, runs = self._consumers()
        # A share without run partitions (a rebuild's metadata) has no run events to wait for.
        records = await runs.poll(self._batch_size, timeout=self._idle_wait) if runs.assignment else []
        # Every DAG version a run event names was appended before it: read the metadata topics up
        # to their ends as of now. A zero-timeout poll is not enough: on Kafka it returns only
        # what the client already fetched, nothing at all on a consumer's first poll.
        ends = await self._meta_ends(meta)
        dag_and_config: list[Record] = []
        while any(meta.position(tp) < end for tp, end in ends.items()):
            dag_and_config.extend(await meta.poll(self._batch_size, timeout=_META_WAIT))
        return dag_and_config + records

    async def _meta_ends(self, meta: Consumer) -> dict[TopicPartition, int]:
        topics = {tp.topic for tp in meta.assignment}
        ends: dict[TopicPartition, int] = {}
        for topic in topics:
            for partition, end in (await self._log.end_offsets(topic)).items():
                tp = TopicPartition(topic, partition)
                if tp in meta.assignment:
                    ends[tp] = end
        return ends

    async def catch_up(self, targets: Mapping[TopicPartition, int] | None = None) -> int:
        """Apply everything in the log now, or up to ``targets`` at least; returns how many records
        were applied."""
        targets = await self._log_ends() if targets is None else self._own(targets)
        total = 0
        while not self._reached(targets):
            total += await self.step()
        return total

    async def replay(self, targets: Mapping[TopicPartition, int] | None = None) -> int:
        """``catch_up``, pipelined: each batch is folded while the previous one's writes and commit
        run (the drivers run SQL off the event loop's thread). Needs the projector's ``connection``.

        Every batch still commits alone with its offsets, after the one before it. The next
        batch's scopes are read inside the previous batch's transaction before its writes, and
        that batch's changes are laid over them (``RowSet.lay_over``): what the tables hold once it
        commits, as nobody else commits in between (its offsets are checked, and stored with a
        compare-and-set). If a batch fails, the one folded behind it is dropped, never written.
        """
        if self._connection is None:
            raise RuntimeError("Projector.replay() needs the connection it was constructed with")
        targets = await self._log_ends() if targets is None else self._own(targets)
        total = 0
        while not self._reached(targets):
            total += await self._pipeline(self._connection, targets)
        return total

    async def _log_ends(self) -> dict[TopicPartition, int]:
        return self._own(await log_ends(self._log))

    def _own(self, position: Mapping[TopicPartition, int]) -> dict[TopicPartition, int]:
        return {tp: offset for tp, offset in position.items() if tp in self._partitions}

    async def _pipeline(self, conn: AsyncConnection, targets: Mapping[TopicPartition, int]) -> int:
        """Apply batches from the stored offsets, overlapped, until ``targets`` are reached or
        another projector is found to have committed; returns how many records were applied."""
        records = await self._poll()
        if not records:
            return 0
        applied = 0
        # Polled and not committed: what another projector may have applied instead.
        unapplied = records
        carried, self._carried = self._carried, None
        transaction = await conn.begin()
        try:
            await self._check_offsets(conn)
            rows = await store.load(conn, _scopes_of(records), carried=carried)
            await _fold_in_slices(rows, records)
            while True:
                position = position_after(records)
                following = [] if _reached({**self._stored, **position}, targets) else await self._poll()
                unapplied = [*records, *following]
                if following:
                    following_rows = await store.load(
                        conn, _scopes_of(following), carried=rows, unwritten=True
                    )
                writing = asyncio.create_task(self._commit(conn, transaction, list(rows.changes()), position))
                try:
                    if following:
                        await _fold_in_slices(following_rows, following)
                except BaseException:
                    # The connection is the write's until it ends; its batch may still commit.
                    await asyncio.wait([writing])
                    if not writing.cancelled() and writing.exception() is None:
                        await self._committed(records, rows, position)
                    raise
                await writing
                await self._committed(records, rows, position)
                applied += len(records)
                if not following:
                    return applied
                records, rows = following, following_rows
                unapplied = records
                transaction = await conn.begin()
                await self._check_offsets(conn)
        except ConcurrentProjectionError:
            await _roll_back(transaction)
            logger.warning("another projector applied these events first; resuming from its offsets")
            await self._follow_winner(unapplied)
            return applied
        except BaseException:
            await _roll_back(transaction)
            # Batches folded and not committed are dropped: read them again on the next call.
            self._seek(self._stored)
            raise

    async def _commit(
        self,
        conn: AsyncConnection,
        transaction: AsyncTransaction,
        changes: Iterable[Change],
        position: Mapping[TopicPartition, int],
    ) -> None:
        await store.write(conn, changes)
        await self._save_offsets(conn, position)
        await transaction.commit()

    async def wait_for(self, position: Mapping[TopicPartition, int], timeout: float) -> None:
        """Read-your-writes: return once every partition in ``position`` is applied up to there.

        After ``records = await log.append(...)``, ``await projector.wait_for(position_after(records),
        timeout=5)`` guarantees the next query sees those events. Partitions of topics the read
        models are not folded from (audit, task-queue...) are ignored. Raises ``TimeoutError``.
        """
        projected = {tp: offset for tp, offset in position.items() if tp.topic in PROJECTED_TOPICS}
        async with asyncio.timeout(timeout), self._applied_changed:
            await self._applied_changed.wait_for(lambda: self._reached(projected))

    def _reached(self, position: Mapping[TopicPartition, int]) -> bool:
        return _reached(self._stored, position)

    def _consumers(self) -> tuple[Consumer, Consumer]:
        if self._meta is None or self._runs is None:
            raise RuntimeError("Projector.start() must be awaited before it projects")
        return self._meta, self._runs

    async def _apply(self, records: Sequence[Record]) -> int:
        if not records:
            return 0
        position = position_after(records)
        carried, self._carried = self._carried, None
        try:
            async with self._transaction() as conn:
                await self._check_offsets(conn)
                rows = await apply_records(conn, records, carried=carried)
                await self._save_offsets(conn, position)
        except ConcurrentProjectionError:
            logger.warning("another projector applied these events first; resuming from its offsets")
            await self._follow_winner(records)
            return 0
        except BaseException:
            # Nothing was committed: read these records again on the next step or restart.
            self._seek(self._stored)
            raise
        await self._committed(records, rows, position)
        return len(records)

    async def _committed(
        self, records: Sequence[Record], rows: RowSet, position: Mapping[TopicPartition, int]
    ) -> None:
        """Record a committed batch, and tell those waiting for it."""
        self._carried = rows
        self._stored.update(position)
        async with self._applied_changed:
            self._applied_changed.notify_all()
        if self._listeners:
            notify(self._listeners, summarise(records))

    @contextlib.asynccontextmanager
    async def _transaction(self) -> AsyncIterator[AsyncConnection]:
        if self._connection is None:
            async with self._engine.begin() as conn:
                yield conn
        else:
            async with self._connection.begin():
                yield self._connection

    async def _check_offsets(self, conn: AsyncConnection) -> None:
        """Refuse the batch unless the stored offsets are all still this projector's own: then no
        other projector committed anything since its last batch, whose rows it may still hold.

        On PostgreSQL the rows stay locked until this transaction ends, so none can commit before
        it either (every projector locks them first, in one order: none waits for another's
        lock while holding one it needs). SQLite lets one writer at a time commit, and fails a
        transaction that read before another's commit.
        """
        table = projection_offsets
        result = await conn.execute(
            self._own_offsets().order_by(table.c.topic, table.c.partition).with_for_update()
        )
        if _offsets(result) != self._stored:
            raise ConcurrentProjectionError("another projector stored offsets since this one's last batch")

    async def _save_offsets(self, conn: AsyncConnection, position: Mapping[TopicPartition, int]) -> None:
        table = projection_offsets
        for tp, next_offset in sorted(position.items()):
            expected = self._stored.get(tp)
            if expected is None:
                try:
                    await conn.execute(
                        sa.insert(table).values(
                            topic=tp.topic, partition=tp.partition, next_offset=next_offset
                        )
                    )
                except sa.exc.IntegrityError:
                    raise ConcurrentProjectionError(f"{tp} offset stored by another projector") from None
                continue
            result = await conn.execute(
                sa.update(table)
                .where(
                    table.c.topic == tp.topic,
                    table.c.partition == tp.partition,
                    table.c.next_offset == expected,
                )
                .values(next_offset=next_offset)
            )
            if result.rowcount != 1:
                raise ConcurrentProjectionError(f"{tp} offset moved from {expected} by another projector")

    async def _follow_winner(self, refused: Sequence[Record]) -> None:
        """Take the offsets another projector on this database stored, and tell this projector's
        listeners what it applied.

        Gateways share one database but each streams live changes to its own browsers, so the
        changes another gateway's projector committed must be announced here too: those of the
        refused batch, and those between this projector's position and the winner's, read and
        announced without being applied.
        """
        await self._load_stored()
        stored = self._stored

        def applied_by_winner(record: Record) -> bool:
            return record.offset < stored.get(TopicPartition(record.topic, record.partition), 0)

        applied = [r for r in refused if applied_by_winner(r)]
        deadline = asyncio.get_running_loop().time() + _FOLLOW_WAIT
        for consumer in self._consumers():
            while asyncio.get_running_loop().time() < deadline and any(
                consumer.position(tp) < stored.get(tp, 0) for tp in consumer.assignment
            ):
                polled = await consumer.poll(self._batch_size, timeout=_META_WAIT)
                applied.extend(filter(applied_by_winner, polled))
        # Whatever was read past the winner's offsets is read again, and applied, from there.
        await self._rewind()
        if self._listeners and applied:
            notify(self._listeners, summarise(applied))

    async def _resume(self) -> None:
        await self._load_stored()
        await self._rewind()

    async def _load_stored(self) -> None:
        async with self._engine.connect() as conn:
            self._stored = _offsets(await conn.execute(self._own_offsets()))

    def _own_offsets(self) -> sa.Select[tuple[str, int, int]]:
        """The stored offsets of this projector's partitions (and locks no other's rows)."""
        table = projection_offsets
        query = sa.select(table.c.topic, table.c.partition, table.c.next_offset)
        if self._everything:
            return query
        own = [
            sa.and_(table.c.topic == tp.topic, table.c.partition == tp.partition) for tp in self._partitions
        ]
        return query.where(sa.or_(sa.false(), *own))

    async def _rewind(self) -> None:
        """Read on from the stored offsets, and wake whoever waits for them."""
        self._seek(self._stored)
        async with self._applied_changed:
            self._applied_changed.notify_all()

    def _seek(self, offsets: Mapping[TopicPartition, int]) -> None:
        meta, runs = self._consumers()
        for tp in sorted(self._partitions):
            (runs if tp.topic == RUN else meta).seek(tp, offsets.get(tp, 0))


async def log_ends(log: EventLog) -> dict[TopicPartition, int]:
    """The end of every projected partition now; ``run``'s read first, so that the others' ends
    hold every DAG version a run event before ``run``'s end names."""
    ends: dict[TopicPartition, int] = {}
    for topic in sorted(PROJECTED_TOPICS, key=lambda t: t != RUN):
        ends.update((TopicPartition(topic, p), end) for p, end in (await log.end_offsets(topic)).items())
    return ends


def _reached(stored: Mapping[TopicPartition, int], position: Mapping[TopicPartition, int]) -> bool:
    return all(stored.get(tp, 0) >= offset for tp, offset in position.items())


async def _roll_back(transaction: AsyncTransaction) -> None:
    if transaction.is_active:
        await transaction.rollback()
