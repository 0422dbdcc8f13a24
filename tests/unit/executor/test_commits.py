"""The task-queue offset the executor commits when tries start out of order."""

from __future__ import annotations

import pytest

from couture_common.eventlog import TopicPartition
from couture_executor.domain.commits import CommitTracker

TP = TopicPartition("task-queue", 3)


def test_commit_follows_tries_started_in_order() -> None:
    tracker = CommitTracker()
    for offset in (0, 1):
        tracker.received(TP, offset)
    assert tracker.acknowledge(TP, 0) == 1
    assert tracker.acknowledge(TP, 1) == 2


def test_a_try_still_waiting_holds_back_the_commit_of_later_ones() -> None:
    tracker = CommitTracker()
    for offset in (5, 6, 7):
        tracker.received(TP, offset)
    assert tracker.acknowledge(TP, 6) == 5
    assert tracker.acknowledge(TP, 7) is None
    assert tracker.acknowledge(TP, 5) == 8


def test_gaps_in_offsets_do_not_hold_back_the_commit() -> None:
    tracker = CommitTracker()
    for offset in (10, 14):
        tracker.received(TP, offset)
    assert tracker.acknowledge(TP, 10) == 14
    assert tracker.acknowledge(TP, 14) == 15


def test_partitions_are_committed_independently() -> None:
    tracker = CommitTracker()
    other = TopicPartition("task-queue", 4)
    tracker.received(TP, 0)
    tracker.received(other, 0)
    assert tracker.acknowledge(other, 0) == 1
    assert tracker.acknowledge(TP, 0) == 1


def test_acknowledging_an_offset_never_received_is_an_error() -> None:
    with pytest.raises(ValueError, match="offset 3 of task-queue\\[3\\]"):
        CommitTracker().acknowledge(TP, 3)
