"""Which task-queue offsets may be committed when tries start out of order.

A command is acknowledged once its try has started (or was found already done). Tries wait for
different things, so they are acknowledged out of order; the group's committed offset may only
move up to the oldest command not yet acknowledged, or a crash would lose the commands before it.
"""

from __future__ import annotations

from couture_common.eventlog import TopicPartition


class CommitTracker:
    def __init__(self) -> None:
        self._unacknowledged: dict[TopicPartition, set[int]] = {}
        self._highest_next: dict[TopicPartition, int] = {}
        self._committed: dict[TopicPartition, int] = {}

    def received(self, tp: TopicPartition, offset: int) -> None:
        self._unacknowledged.setdefault(tp, set()).add(offset)

    def acknowledge(self, tp: TopicPartition, offset: int) -> int | None:
        """Mark ``offset`` done; returns the partition's new commit position when it moved."""
        waiting = self._unacknowledged.get(tp, set())
        if offset not in waiting:
            raise ValueError(f"offset {offset} of {tp.topic}[{tp.partition}] is not awaiting acknowledgement")
        waiting.discard(offset)
        self._highest_next[tp] = max(self._highest_next.get(tp, 0), offset + 1)
        position = min(waiting) if waiting else self._highest_next[tp]
        if position <= self._committed.get(tp, -1):
            return None
        self._committed[tp] = position
        return position
