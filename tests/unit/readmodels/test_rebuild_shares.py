"""How a parallel rebuild splits the ``run`` partitions between its processes."""

from __future__ import annotations

import pytest

from couture_common.eventlog import TopicPartition
from couture_gateway.readmodels.rebuild import split_evenly


def run(*numbers: int) -> frozenset[TopicPartition]:
    return frozenset(TopicPartition("run", n) for n in numbers)


def test_every_partition_lands_in_exactly_one_share() -> None:
    sizes = {TopicPartition("run", p): size for p, size in enumerate([50, 10, 40, 30, 20, 60, 5, 25])}

    shares = split_evenly(sizes, 3)

    assert len(shares) == 3
    assert sorted(tp for share in shares for tp in share) == sorted(sizes)


def test_shares_are_as_even_as_largest_first_makes_them_and_come_lightest_first() -> None:
    sizes = {TopicPartition("run", p): size for p, size in enumerate([50, 10, 40, 30, 20, 60, 5, 25])}

    shares = split_evenly(sizes, 2)

    # 60, 50 | 40 to the 50 | 30 to the 60 | 25 to the first of two at 90 | 20, 10 | 5.
    assert shares == [run(0, 1, 2, 4), run(3, 5, 6, 7)]
    assert [sum(sizes[tp] for tp in share) for share in shares] == [120, 120]


def test_no_more_shares_than_partitions_and_one_share_takes_everything() -> None:
    sizes = {TopicPartition("run", 3): 7, TopicPartition("run", 5): 9}

    assert split_evenly(sizes, 8) == [run(3), run(5)]
    assert split_evenly(sizes, 1) == [run(3, 5)]
    assert split_evenly({}, 4) == []


def test_refuses_fewer_than_one_share() -> None:
    with pytest.raises(ValueError, match="shares must be at least 1, not 0"):
        split_evenly({TopicPartition("run", 0): 1}, 0)
