"""Where projected events sit in the log, and the stable row ids derived from that.

The projector reads four topics. An id made from an event's (topic, partition, offset) is the
same on every replay, so ``event_log_id`` and ``import_error_id`` survive a rebuild unchanged,
whatever batches the replay happens to be cut into.
"""

from __future__ import annotations

from couture_common.eventlog import TopicPartition
from couture_common.topics import AUDIT, CONFIG, DAG, RUN, TOPICS

#: Topics the read models are folded from. ``dag`` and ``config`` are applied before ``run``
#: in each batch: a run event may need the DAG version it names. New topics go last, so the ids
#: of rows already projected keep their slots.
PROJECTED_TOPICS: tuple[str, ...] = (DAG, CONFIG, RUN, AUDIT)

_SLOTS = 16
_SLOT: dict[tuple[str, int], int] = {
    tp: slot
    for slot, tp in enumerate(
        (topic, partition) for topic in PROJECTED_TOPICS for partition in range(TOPICS[topic].partitions)
    )
}
if len(_SLOT) > _SLOTS:
    raise RuntimeError(f"{len(_SLOT)} projected partitions do not fit the {_SLOTS} id slots")


def all_partitions() -> list[TopicPartition]:
    """Every partition of the projected topics, in slot order."""
    return [TopicPartition(topic, partition) for topic, partition in _SLOT]


def position_id(topic: str, partition: int, offset: int) -> int:
    """A positive integer unique to one position of a projected topic, growing with its offset."""
    return offset * _SLOTS + _SLOT[(topic, partition)] + 1
