"""The event-log port: the only way services touch the log. Adapters: SQLite (standalone), Kafka.

Semantics every adapter must meet (proved by ``tests/contract/eventlog_contract.py``):

* ``append`` writes a batch atomically (all or nothing) and returns each event's position; once it
  returns, the events are durable and visible to every consumer.
* An event's partition is ``partition_for(key, topic.partitions)``; within a partition offsets
  start at 0 and grow by one, and consumers see events in offset order.
* A consumer in a group resumes after the group's committed offsets; a consumer without a group
  starts at offset 0 of every partition (replay), or of the ``partitions`` it is given, and
  commits nothing.
* ``open_event_log(log.url)`` opens the same log, e.g. in another process.
* ``poll`` waits until records arrive or ``timeout`` passes; it is woken by appends, never by a
  busy loop.
* A group member's ``on_revoked`` listener is awaited with the partitions it is about to lose
  before the group gives any of them to another member; from its first step on, the member's
  ``assignment`` no longer holds them. On Kafka (eager rebalancing) that is every partition the
  member had, some of which it may get back; on SQLite only those that move. What the listener
  awaits (an append in flight) is in the log before the new owner reads it.
"""

from __future__ import annotations

import zlib
from collections.abc import Awaitable, Callable, Collection, Mapping, Sequence
from typing import Protocol

import msgspec

from couture_common.events.envelope import Envelope


class Record(msgspec.Struct, frozen=True):
    topic: str
    partition: int
    offset: int
    envelope: Envelope


class TopicPartition(msgspec.Struct, frozen=True, order=True):
    topic: str
    partition: int


#: Awaited with the partitions a group member is about to lose (see the module's docstring).
RevokedListener = Callable[[frozenset[TopicPartition]], Awaitable[None]]


def partition_for(key: str, partitions: int) -> int:
    """Stable across processes and adapters (Python's ``hash`` is salted per process)."""
    if partitions == 1:
        return 0
    return zlib.crc32(key.encode()) % partitions


class EventLogError(RuntimeError):
    """The log could not do what was asked; the message says what and why."""


def check_poll_arguments(max_records: int, timeout: float | None) -> None:
    """What every adapter's ``poll`` refuses, with the same words."""
    if max_records < 1:
        raise EventLogError(f"max_records must be at least 1, not {max_records}")
    if timeout is not None and timeout < 0:
        raise EventLogError(f"timeout must be None or at least 0, not {timeout}")


def check_listener(group: str | None, on_revoked: RevokedListener | None) -> None:
    """A revocation listener needs a group: a consumer without one never loses partitions."""
    if on_revoked is not None and group is None:
        raise EventLogError("on_revoked needs a group: a consumer without a group never loses partitions")


def group_less_partitions(
    topics: Sequence[str],
    partitions: Collection[TopicPartition] | None,
    group: str | None,
    topic_partitions: Mapping[str, int],
) -> frozenset[TopicPartition]:
    """What a consumer without a group reads: ``partitions`` (checked against ``topics``), or all.

    ``topic_partitions`` is each known topic's partition count. The same words in every adapter.
    """
    if partitions is None:
        return frozenset(TopicPartition(t, p) for t in topics for p in range(topic_partitions[t]))
    if group is not None:
        raise EventLogError("partitions are for a consumer without a group: a group assigns its own")
    chosen = frozenset(partitions)
    for tp in sorted(chosen):
        if tp.topic not in topics:
            raise EventLogError(
                f"partitions: {tp.topic}[{tp.partition}] is not of the topics {sorted(topics)}"
            )
        if not 0 <= tp.partition < topic_partitions[tp.topic]:
            raise EventLogError(
                f"partitions: topic {tp.topic!r} has partitions 0..{topic_partitions[tp.topic] - 1}, "
                f"not {tp.partition}"
            )
    return chosen


def check_offset(tp: TopicPartition, offset: int) -> None:
    """What every adapter's ``seek`` and ``commit`` refuse, with the same words."""
    if isinstance(offset, bool) or not isinstance(offset, int) or offset < 0:
        raise EventLogError(f"offset for {tp.topic}[{tp.partition}] must be an integer >= 0, not {offset!r}")


class Consumer(Protocol):
    @property
    def assignment(self) -> frozenset[TopicPartition]:
        """The partitions this consumer currently reads."""

    async def poll(self, max_records: int = 1000, timeout: float | None = None) -> list[Record]:
        """Next records after the current positions, in offset order per partition.

        Waits up to ``timeout`` seconds (forever when None) for at least one record.
        """

    def position(self, tp: TopicPartition) -> int:
        """The offset of the next record this consumer will return from ``tp``."""

    def seek(self, tp: TopicPartition, offset: int) -> None: ...

    async def commit(self, offsets: Mapping[TopicPartition, int] | None = None) -> None:
        """Store the group's next offsets (the current positions when None)."""

    async def close(self) -> None: ...


class EventLog(Protocol):
    @property
    def url(self) -> str:
        """The ``COUTURE_EVENT_LOG`` URL of this log (no credentials are part of it)."""

    async def start(self) -> None:
        """Create topics and open connections; idempotent."""

    async def append(self, envelopes: Sequence[Envelope]) -> list[Record]:
        """Durably append a batch, atomically, to the envelopes' topics."""

    def consumer(
        self,
        topics: Sequence[str],
        *,
        group: str | None = None,
        on_revoked: RevokedListener | None = None,
        partitions: Collection[TopicPartition] | None = None,
    ) -> Consumer:
        """A consumer of ``topics``; with ``group``, resumes after the group's commits and tells
        ``on_revoked`` of partitions before the group moves them to another member. Without a
        group it reads every partition of ``topics``, or only ``partitions`` when given."""

    async def end_offsets(self, topic: str) -> dict[int, int]:
        """Per partition, the offset the next appended event will get."""

    async def close(self) -> None: ...
