"""Consumer groups inside one process: the members of a group split its partitions.

The split is Kafka's range assignment, so a service sees the same shape of work under either
adapter: per topic, members in join order take consecutive ranges of partitions, the first ones
one partition more when the count does not divide evenly. Every join or leave re-splits the group.
"""

from __future__ import annotations

import threading
from collections.abc import Collection, Mapping
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

    def assign(self, partitions: frozenset[TopicPartition]) -> None:
        """Called (under the groups' lock, from any thread) with the member's new partitions."""


class ConsumerGroups:
    """The members of every group of one log instance; thread-safe."""

    def __init__(self, partitions: Mapping[str, int]) -> None:
        self._partitions = dict(partitions)
        self._members: dict[str, dict[int, GroupMember]] = {}
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
        for member_id, member in members.items():
            member.assign(split[member_id])
