"""Consumer groups inside one process: the members of a group split its partitions.

The split is Kafka's range assignment, so a service sees the same shape of work under either
adapter: per topic, members in join order take consecutive ranges of partitions, the first ones
one partition more when the count does not divide evenly. Every join or leave re-splits the group.

A re-split first takes from each member what it loses, and hands it to its new owner only once
what the losing members' revocation listeners returned has been awaited, as Kafka's group waits
for its members to rejoin.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Awaitable, Collection, Mapping
from typing import Protocol

from couture_common.eventlog.port import TopicPartition


def range_assignment(
    subscriptions: Mapping[int, Collection[str]], partitions: Mapping[str, int]
) -> dict[int, frozenset[TopicPartition]]:
    """Partitions per member id, given each member's topics and each topic's partition count."""
    assigned: dict[int, set[TopicPartition]] = {member: set() for member in subscriptions}
    topics = sorted({topic for member_topics in subscriptions.values() for topic in member_topics})
    for topic in topics:
        members = sorted(member for member, member_topics in subscriptions.items() if topic in member_topics)
        share, extra = divmod(partitions[topic], len(members))
        start = 0
        for index, member in enumerate(members):
            count = share + (1 if index < extra else 0)
            assigned[member].update(TopicPartition(topic, p) for p in range(start, start + count))
            start += count
    return {member: frozenset(tps) for member, tps in assigned.items()}


class GroupMember(Protocol):
    @property
    def member_id(self) -> int: ...

    @property
    def topics(self) -> frozenset[str]: ...

    @property
    def assignment(self) -> frozenset[TopicPartition]: ...

    def assign(self, partitions: frozenset[TopicPartition]) -> None:
        """Called (under the groups' lock, from any thread) with the member's new partitions."""

    def revoke(self, partitions: frozenset[TopicPartition]) -> Awaitable[None] | None:
        """Called (under the groups' lock) with partitions the member loses, after they left its
        assignment; what it returns is awaited before another member gets them."""


class ConsumerGroups:
    """The members of every group of one log instance; thread-safe."""

    def __init__(self, partitions: Mapping[str, int]) -> None:
        self._partitions = dict(partitions)
        self._members: dict[str, dict[int, GroupMember]] = {}
        #: Per group, how many times it was re-split: a hand-over waiting on revocations is
        #: dropped when a newer split came meanwhile (the newer one waits for them all).
        self._splits: dict[str, int] = {}
        #: Per group, the revocation listeners still running.
        self._revoking: dict[str, set[asyncio.Future[None]]] = {}
        self._handovers: set[asyncio.Task[None]] = set()
        self._lock = threading.Lock()

    def join(self, group: str, member: GroupMember) -> None:
        with self._lock:
            self._members.setdefault(group, {})[member.member_id] = member
            self._rebalance(group)

    def leave(self, group: str, member: GroupMember) -> None:
        with self._lock:
            members = self._members.get(group, {})
            if members.pop(member.member_id, None) is None:
                return
            if members:
                self._rebalance(group)
            else:
                del self._members[group]

    def _rebalance(self, group: str) -> None:
        members = self._members[group]
        split = range_assignment({m.member_id: m.topics for m in members.values()}, self._partitions)
        self._splits[group] = generation = self._splits.get(group, 0) + 1
        try:
            loop: asyncio.AbstractEventLoop | None = asyncio.get_running_loop()
        except RuntimeError:
            loop = None
        revoking = self._revoking.setdefault(group, set())
        for member_id, member in members.items():
            lost = member.assignment - split[member_id]
            if not lost:
                continue
            member.assign(member.assignment & split[member_id])
            listener = member.revoke(lost)
            if listener is None:
                continue
            if loop is None:
                # A join from a plain thread: no event loop here to await the listener on.
                if asyncio.iscoroutine(listener):
                    listener.close()
                continue
            running = asyncio.ensure_future(listener, loop=loop)
            revoking.add(running)
            running.add_done_callback(revoking.discard)
        if not revoking or loop is None:
            self._assign(group, split)
            return
        task = loop.create_task(self._hand_over(group, generation, set(revoking), split))
        self._handovers.add(task)
        task.add_done_callback(self._handovers.discard)

    async def _hand_over(
        self,
        group: str,
        generation: int,
        revoking: set[asyncio.Future[None]],
        split: dict[int, frozenset[TopicPartition]],
    ) -> None:
        """Once every listener still running when ``split`` was made returned, apply it (if it is
        still the group's latest)."""
        await asyncio.wait(revoking)
        with self._lock:
            if self._splits.get(group) == generation and group in self._members:
                self._assign(group, split)

    def _assign(self, group: str, split: dict[int, frozenset[TopicPartition]]) -> None:
        for member_id, member in self._members[group].items():
            member.assign(split[member_id])
