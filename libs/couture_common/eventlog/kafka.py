"""The event log on Apache Kafka: the distributed deployment's adapter of the log port.

* Topics are created on :meth:`KafkaEventLog.start` with their partition counts: event topics
  keep everything (``retention.ms=-1``), ``heartbeat`` and ``login`` keep their
  ``retention_hours``, ``config`` is compacted. An existing topic with another partition count is
  refused; one kept otherwise than its spec says is altered to it.
* Each event goes to partition ``partition_for(key, partitions)``, passed explicitly on send, so
  both adapters put a key on the same partition and one group member owns all of a DAG's runs.
* The producer is idempotent with ``acks=all``: a retried send is written once, in order.
* Envelope metadata travels in headers (``_kafka_codec``); the value is the encoded payload.
* Group consumers are Kafka consumer groups: partitions are spread and rebalanced by the broker,
  offsets are committed to Kafka. A consumer without a group assigns itself every partition and
  reads from offset 0. Consumers read committed data only (``read_committed``).
* After a rebalance every partition restarts at the group's committed offset, in the member that
  kept it too: what was read and not committed is read again (a commit refused because the group
  rebalanced meanwhile is logged, not raised, for the same reason).
* A rebalance begins in each member with the revocation of all its partitions (Kafka's eager
  protocol): they leave its ``assignment``, records of them fetched meanwhile are dropped, and the
  consumer's ``on_revoked`` listener is awaited before the member rejoins, so before the group can
  give them to anyone else. Polls meanwhile return nothing by their timeout (aiokafka's own
  fetch would wait for the new assignment). A member that died is not asked: the group waits out its session
  (``_SESSION_TIMEOUT_MS``) instead, so what a member does with an event must still be safe to do
  twice.
* ``namespace`` prefixes topic names and group ids on the cluster, so several deployments (or
  test runs) share one cluster; the port's callers always use the plain names.

What this adapter does not promise that SQLite does: a call's events for one partition travel
as one record batch, which the broker writes whole or not at all, but a call spanning several
partitions sends one batch per partition, and a broker failure in the middle of it can leave some
partitions written and others not (the call then raises). Kafka transactions
would make it all-or-nothing, but each commit writes a marker that takes an offset in every
partition it touched, and the records become visible to ``read_committed`` readers a moment
after the commit returns: both break the port's promises (offsets grow by one; appended events
are visible once ``append`` returns) that readers waiting for ``end_offsets`` rely on.
"""

from __future__ import annotations

import asyncio
import logging
import re
import urllib.parse
from collections.abc import Awaitable, Collection, Mapping, Sequence
from types import TracebackType
from typing import Any, Self, TypeVar

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, ConsumerRebalanceListener
from aiokafka.admin import AIOKafkaAdminClient
from aiokafka.errors import CommitFailedError, IllegalStateError, KafkaError
from aiokafka.structs import TopicPartition as KafkaPartition

from couture_common.eventlog._kafka_codec import Message, decode_record, encode_messages
from couture_common.eventlog._kafka_topics import ensure_topics
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
from couture_common.events import Envelope, UnknownEventError
from couture_common.topics import TOPICS, TopicSpec

logger = logging.getLogger(__name__)

T = TypeVar("T")
#: What aiokafka's getmany returns: messages by partition.
Fetched = dict[Any, list[Any]]

#: Large enough for any batch the services append, so a call's events to one partition usually
#: travel as one record batch.
_MAX_BATCH_BYTES = 1024 * 1024
#: Room for the record batch's own header within the broker's default message.max.bytes.
_MAX_EVENT_BYTES = _MAX_BATCH_BYTES - 1024
#: How often group members heartbeat: also how soon they notice a rebalance.
_HEARTBEAT_MS = 500
_SESSION_TIMEOUT_MS = 10_000
#: A broker holds an empty fetch this long; an append wakes it at once.
_FETCH_WAIT_MS = 500
#: How far past a poll's timeout aiokafka's own wait may run before the poll gives up on it.
_FETCH_GRACE_S = 0.05
#: Readers never see what a transactional producer (a stream processor's exactly-once output)
#: aborted or has not committed yet; this adapter's own appends are visible once acknowledged.
_ISOLATION = "read_committed"
#: The end offsets of a topic this client has no metadata for yet are asked again after this
#: back-off (aiokafka's default, 100 ms, made every service's first look at each topic 100 ms).
_OFFSETS_RETRY_BACKOFF_MS = 10
#: What Kafka allows in a topic name (at most 249 characters).
_KAFKA_NAME = re.compile(r"[A-Za-z0-9._-]{1,249}")


class KafkaEventLog:
    """The log port on a Kafka cluster; use it from one event loop.

    ``bootstrap`` is ``host:port`` or several, comma-separated or as a list.
    """

    def __init__(
        self,
        bootstrap: str | Sequence[str],
        *,
        topics: Mapping[str, TopicSpec] = TOPICS,
        client_id: str = "couture",
        namespace: str = "",
    ) -> None:
        servers = [s.strip() for s in bootstrap.split(",")] if isinstance(bootstrap, str) else list(bootstrap)
        if not servers or not all(_is_host_port(server) for server in servers):
            raise EventLogError(
                f"the Kafka bootstrap servers must be host:port[,host:port], not {bootstrap!r}"
            )
        if not _KAFKA_NAME.fullmatch(namespace + "x"):
            raise EventLogError(
                f"namespace {namespace!r} may hold only letters, digits, '.', '_' and '-' "
                "(it prefixes Kafka topic names)"
            )
        for name, spec in topics.items():
            if spec.name != name:
                raise EventLogError(f"topics[{name!r}] describes topic {spec.name!r}")
            if spec.partitions < 1:
                raise EventLogError(f"topic {name!r}: partitions must be at least 1, not {spec.partitions}")
        self.bootstrap = servers
        self.namespace = namespace
        self._client_id = client_id
        self._topics = dict(topics)
        self._producer: Any = None
        self._offsets: Any = None
        self._starting = asyncio.Lock()
        self._open = False
        self._closed = False
        self._consumers: set[KafkaConsumer] = set()

    @property
    def topics(self) -> Mapping[str, TopicSpec]:
        return self._topics

    @property
    def url(self) -> str:
        query = f"?namespace={urllib.parse.quote(self.namespace)}" if self.namespace else ""
        return f"kafka://{self._where}{query}"

    async def start(self) -> None:
        async with self._starting:
            if self._closed:
                raise EventLogError(f"the Kafka event log at {self._where} is closed")
            if self._open:
                return
            admin = AIOKafkaAdminClient(bootstrap_servers=self.bootstrap, client_id=self._client_id)
            producer = AIOKafkaProducer(
                bootstrap_servers=self.bootstrap,
                client_id=self._client_id,
                acks="all",
                enable_idempotence=True,
                max_batch_size=_MAX_BATCH_BYTES,
                max_request_size=_MAX_BATCH_BYTES,
            )
            offsets = AIOKafkaConsumer(
                bootstrap_servers=self.bootstrap,
                client_id=self._client_id,
                isolation_level=_ISOLATION,
                retry_backoff_ms=_OFFSETS_RETRY_BACKOFF_MS,
            )
            try:
                await admin.start()
                try:
                    await ensure_topics(admin, self._topics, self.namespace)
                finally:
                    await admin.close()
                await producer.start()
                await offsets.start()
            except KafkaError as exc:
                await producer.stop()
                await offsets.stop()
                raise EventLogError(f"cannot use the Kafka cluster at {self._where}: {exc!r}") from exc
            self._producer, self._offsets = producer, offsets
            self._open = True

    async def __aenter__(self) -> Self:
        await self.start()
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.close()

    async def append(self, envelopes: Sequence[Envelope]) -> list[Record]:
        """Durably append a batch (``acks=all``); a bad envelope refuses the batch by its index.

        A call's events for one partition go out as one Kafka record batch, which the broker
        writes whole or not at all (unless they exceed the 1 MiB batch size). A lone event goes
        out as a message, sharing a batch with other callers' at that moment.
        """
        if not envelopes:
            return []
        self._require_open()
        messages = encode_messages(envelopes, self._topics)
        for index, m in enumerate(messages):
            size = len(m.key) + len(m.value) + sum(len(name) + len(value) for name, value in m.headers)
            if size > _MAX_EVENT_BYTES:
                raise EventLogError(
                    f"envelope {index} (id {envelopes[index].id}) takes {size} bytes; "
                    f"Kafka takes events of at most {_MAX_EVENT_BYTES}"
                )
        try:
            if len(messages) == 1:
                (message,) = messages
                offsets = [(await self._send(message)).offset]
            else:
                offsets = await self._send_batches(messages)
        except KafkaError as exc:
            raise EventLogError(
                f"appending {len(messages)} events to Kafka failed, some may have been written: {exc!r}"
            ) from exc
        return [
            Record(m.topic, m.partition, offset, env)
            for m, offset, env in zip(messages, offsets, envelopes, strict=True)
        ]

    async def _send(self, m: Message) -> Any:
        future = await self._producer.send(
            self.namespace + m.topic,
            value=m.value,
            key=m.key,
            partition=m.partition,
            timestamp_ms=m.timestamp_ms,
            headers=m.headers,
        )
        return await future

    @staticmethod
    def _add(batch: Any, m: Message) -> bool:
        """Whether ``m`` fit in ``batch``."""
        return batch.append(key=m.key, value=m.value, timestamp=m.timestamp_ms, headers=m.headers) is not None

    async def _send_batches(self, messages: Sequence[Message]) -> list[int]:
        """One record batch per partition (more where one overflows); returns each message's offset."""
        batches: list[tuple[Message, Any, list[int]]] = []
        filling: dict[tuple[str, int], tuple[Any, list[int]]] = {}
        for index, m in enumerate(messages):
            current = filling.get((m.topic, m.partition))
            if current is None or not self._add(current[0], m):
                current = (self._producer.create_batch(), [])
                self._add(current[0], m)
                filling[(m.topic, m.partition)] = current
                batches.append((m, *current))
            current[1].append(index)
        futures = [
            await self._producer.send_batch(batch, self.namespace + first.topic, partition=first.partition)
            for first, batch, _ in batches
        ]
        offsets = [0] * len(messages)
        for (_, _, members), future in zip(batches, futures, strict=True):
            base = (await future).offset
            for position, index in enumerate(members):
                offsets[index] = base + position
        return offsets

    def consumer(
        self,
        topics: Sequence[str],
        *,
        group: str | None = None,
        on_revoked: RevokedListener | None = None,
        partitions: Collection[TopicPartition] | None = None,
    ) -> KafkaConsumer:
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
        consumer = KafkaConsumer(self, names, group, chosen, on_revoked)
        self._consumers.add(consumer)
        return consumer

    async def end_offsets(self, topic: str) -> dict[int, int]:
        self._require_open()
        spec = self._topics.get(topic)
        if spec is None:
            raise EventLogError(f"unknown topic {topic!r}; this log has {sorted(self._topics)}")
        partitions = [KafkaPartition(self.namespace + topic, p) for p in range(spec.partitions)]
        ends = await _kafka_call(
            self._offsets.end_offsets(partitions), f"reading the end offsets of {topic!r}"
        )
        return {tp.partition: int(end) for tp, end in ends.items()}

    async def close(self) -> None:
        async with self._starting:
            if self._closed:
                return
            self._closed = True
        for consumer in list(self._consumers):
            await consumer.close()
        if self._open:
            await self._producer.stop()
            await self._offsets.stop()

    # Used by KafkaConsumer, its partner in this module.

    def _kafka_consumer(self, group: str | None) -> Any:
        return AIOKafkaConsumer(
            bootstrap_servers=self.bootstrap,
            client_id=self._client_id,
            group_id=None if group is None else self.namespace + group,
            enable_auto_commit=False,
            auto_offset_reset="earliest",
            heartbeat_interval_ms=_HEARTBEAT_MS,
            session_timeout_ms=_SESSION_TIMEOUT_MS,
            fetch_max_wait_ms=_FETCH_WAIT_MS,
            isolation_level=_ISOLATION,
        )

    def _forget(self, consumer: KafkaConsumer) -> None:
        self._consumers.discard(consumer)

    @property
    def _where(self) -> str:
        return ",".join(self.bootstrap)

    def _require_open(self) -> None:
        if self._closed:
            raise EventLogError(f"the Kafka event log at {self._where} is closed")
        if not self._open:
            raise EventLogError(f"the Kafka event log at {self._where} is not started; await start() first")


class KafkaConsumer:
    """Reads topics of a :class:`KafkaEventLog`; used from one task at a time.

    The Kafka client starts on the first poll; a group member gets its partitions while it polls.
    Positions are kept here as well as in the client, so :meth:`position` needs no round trip.
    """

    def __init__(
        self,
        log: KafkaEventLog,
        topics: tuple[str, ...],
        group: str | None,
        partitions: frozenset[TopicPartition],
        on_revoked: RevokedListener | None = None,
    ) -> None:
        self._log = log
        self._topics = topics
        self._group = group
        self._kafka = log._kafka_consumer(group)
        self._namespace = log.namespace
        # Without a group every partition is this consumer's from the start, read from offset 0.
        self._assignment = partitions if group is None else frozenset()
        self._positions: dict[TopicPartition, int] = dict.fromkeys(self._assignment, 0)
        self._rebalances = _Rebalances(self)
        self._on_revoked = on_revoked
        #: The rebalance whose assignment ``_assignment`` and ``_positions`` hold.
        self._generation = 0
        self._starting: asyncio.Task[None] | None = None
        self._closing = asyncio.Event()
        self._polling = False

    @property
    def assignment(self) -> frozenset[TopicPartition]:
        return self._assignment

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
        self._check_open()
        loop = asyncio.get_running_loop()
        deadline = None if timeout is None else loop.time() + timeout
        if self._starting is None:
            self._starting = asyncio.ensure_future(self._start())
        if not self._starting.done():
            # A group member's client starts once the group gave it partitions: no longer than asked.
            left = None if deadline is None else max(0.0, deadline - loop.time())
            await self._unless_closed(asyncio.wait([self._starting], timeout=left))
            if not self._starting.done():
                return []
        self._starting.result()
        while True:
            remaining = 1.0 if deadline is None else max(0.0, deadline - loop.time())
            fetching = self._kafka.getmany(timeout_ms=round(remaining * 1000), max_records=max_records)
            if deadline is not None:
                # aiokafka's getmany waits out a rebalance whatever its timeout; the port's poll does not.
                fetching = _or_nothing_after(fetching, remaining + _FETCH_GRACE_S)
            fetched = await self._unless_closed(_kafka_call(fetching, "polling"))
            if self._rebalances.generation != self._generation:
                await self._take_assignment(fetched)
                fetched = {}
            records = self._decode(fetched)
            if records or (deadline is not None and loop.time() >= deadline):
                return records

    async def _start(self) -> None:
        kafka_topics = [self._namespace + t for t in self._topics]
        if self._group is None:
            self._kafka.assign([self._to_kafka(tp) for tp in self._assignment])
        else:
            self._kafka.subscribe(topics=kafka_topics, listener=self._rebalances)
        await _kafka_call(self._kafka.start(), "starting a consumer")
        if self._group is None:
            for tp, offset in self._positions.items():
                self._kafka.seek(self._to_kafka(tp), offset)

    async def _take_assignment(self, fetched: Mapping[Any, list[Any]]) -> None:
        """Take on the assignment of the group's latest rebalance, and its positions.

        After a rebalance every partition restarts at the group's committed offset, those this
        member kept included, as Kafka does: what was read and not committed is read again. What
        this poll fetched is fetched again from there, so callers see the new assignment and its
        positions before any record from it.
        """
        generation = self._rebalances.generation
        revocations = self._rebalances.revocations
        for kafka_tp, messages in fetched.items():
            if messages:
                self._kafka.seek(kafka_tp, messages[0].offset)
        positions = {}
        for kafka_tp in self._kafka.assignment():
            try:
                positions[self._from_kafka(kafka_tp)] = await self._kafka.position(kafka_tp)
            except KafkaError:
                # Revoked again while we asked; the next poll takes on the newer assignment.
                return
        if self._rebalances.revocations != revocations:
            return
        self._positions = positions
        self._assignment = frozenset(positions)
        self._generation = generation

    def _decode(self, fetched: Mapping[Any, list[Any]]) -> list[Record]:
        """Records in offset order per partition; an undecodable one stops the batch before it.

        The partitions after the bad record are sought back, so the next poll returns them again
        (and raises again at the bad record until the caller seeks past it).
        """
        records: list[Record] = []
        error: Exception | None = None
        for kafka_tp, messages in sorted(fetched.items()):
            tp = self._from_kafka(kafka_tp)
            if tp not in self._assignment:
                # Fetched before its revocation: its next owner reads it from the committed offset.
                continue
            for message in messages:
                if error is None:
                    try:
                        records.append(decode_record(tp.topic, message))
                    except (UnknownEventError, EventLogError) as exc:
                        error = exc
                if error is not None:
                    self._kafka.seek(kafka_tp, message.offset)
                    break
                self._positions[tp] = message.offset + 1
        if error is not None and not records:
            raise error
        return records

    def position(self, tp: TopicPartition) -> int:
        self._check_assigned(tp)
        return self._positions[tp]

    def seek(self, tp: TopicPartition, offset: int) -> None:
        self._check_assigned(tp)
        check_offset(tp, offset)
        self._positions[tp] = offset
        if self._starting is not None and self._starting.done():
            try:
                self._kafka.seek(self._to_kafka(tp), offset)
            except KafkaError as exc:
                raise EventLogError(f"cannot seek {tp.topic}[{tp.partition}]: {exc!r}") from exc

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
        if not chosen:
            return
        try:
            await self._kafka.commit({self._to_kafka(tp): offset for tp, offset in chosen.items()})
        except (CommitFailedError, IllegalStateError) as exc:
            # The group rebalanced since these records were read: their partitions start again at
            # the last commit that went through, here or at their new owner, as after any rebalance.
            logger.warning("group %r rebalanced before its offsets were committed: %r", self._group, exc)
        except KafkaError as exc:
            raise EventLogError(f"committing the offsets of group {self._group!r} failed: {exc!r}") from exc

    async def close(self) -> None:
        """Leave the group (its other members take over the partitions) and end any poll."""
        if self._closing.is_set():
            return
        self._closing.set()
        self._log._forget(self)
        if self._starting is not None:
            await asyncio.wait([self._starting])
        await self._kafka.stop()

    # Machinery.

    async def _revoked(self, revoked: Any) -> None:
        """The group is rebalancing: give up ``revoked`` before this member rejoins it."""
        lost = frozenset(self._from_kafka(tp) for tp in revoked) & self._assignment
        if not lost:
            return
        self._assignment -= lost
        for tp in lost:
            self._positions.pop(tp, None)
        if self._on_revoked is not None:
            await self._on_revoked(lost)

    async def _unless_closed(self, awaitable: Awaitable[T]) -> T:
        """Await ``awaitable``, or raise as soon as the consumer is closed."""
        work = asyncio.ensure_future(awaitable)
        closing = asyncio.ensure_future(self._closing.wait())
        try:
            await asyncio.wait([work, closing], return_when=asyncio.FIRST_COMPLETED)
        finally:
            closing.cancel()
        if not work.done():
            work.cancel()
            await asyncio.wait([work])
            raise EventLogError("this consumer is closed")
        self._check_open()
        return work.result()

    def _to_kafka(self, tp: TopicPartition) -> Any:
        return KafkaPartition(self._namespace + tp.topic, tp.partition)

    def _from_kafka(self, tp: Any) -> TopicPartition:
        return TopicPartition(tp.topic[len(self._namespace) :], tp.partition)

    def _check_open(self) -> None:
        if self._closing.is_set():
            raise EventLogError("this consumer is closed")

    def _check_assigned(self, tp: TopicPartition) -> None:
        self._check_open()
        if tp not in self._assignment:
            raise EventLogError(f"{tp.topic}[{tp.partition}] is not assigned to this consumer")


class _Rebalances(ConsumerRebalanceListener):  # type: ignore[misc]
    """Counts the group's rebalances, for the consumer to take on each new assignment, and hands
    revocations to it (aiokafka awaits them before the member rejoins the group)."""

    def __init__(self, consumer: KafkaConsumer) -> None:
        self._consumer = consumer
        self.generation = 0
        self.revocations = 0

    async def on_partitions_revoked(self, revoked: Any) -> None:
        self.revocations += 1
        await self._consumer._revoked(revoked)

    def on_partitions_assigned(self, assigned: Any) -> None:
        self.generation += 1


async def _or_nothing_after(
    fetching: Awaitable[dict[Any, list[Any]]], seconds: float
) -> dict[Any, list[Any]]:
    try:
        return await asyncio.wait_for(fetching, seconds)
    except TimeoutError:
        return {}


async def _kafka_call(awaitable: Awaitable[T], doing: str) -> T:
    try:
        return await awaitable
    except KafkaError as exc:
        raise EventLogError(f"{doing} failed: {exc!r}") from exc


def _is_host_port(server: str) -> bool:
    host, _, port = server.rpartition(":")
    return bool(host) and port.isdigit()
