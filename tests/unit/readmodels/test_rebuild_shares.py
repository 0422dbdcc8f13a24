"""The order a parallel rebuild hands the ``run`` partitions out in."""

from __future__ import annotations

from couture_common.eventlog import TopicPartition
from couture_gateway.readmodels.rebuild import largest_first


def test_the_longest_partitions_go_first_and_ties_by_partition() -> None:
    sizes = {TopicPartition("run", p): size for p, size in enumerate([50, 10, 50, 30, 0, 60])}

    assert [tp.partition for tp in largest_first(sizes)] == [5, 0, 2, 3, 1, 4]


def test_nothing_to_hand_out() -> None:
    assert largest_first({}) == []
