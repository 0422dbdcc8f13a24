"""Topic ``pool``: slots of a pool asked for, granted and given back, across schedulers.

Every event of pool P is keyed by P, so one partition orders them all. The pool's arbiter (the
scheduler owning the ``run`` partition of that index) grants; a task instance's owner asks and
gives back. A slot claim is one try of one task instance: ``try_number`` tells a redelivered or
stale event from the current one.
"""

from __future__ import annotations

from datetime import datetime

from couture_common.events._base import Event, event_type
from couture_common.topics import POOL


class _SlotEvent(Event, frozen=True, kw_only=True):
    pool: str
    dag_id: str
    run_id: str
    task_id: str
    try_number: int

    def partition_key(self) -> str:
        return self.pool


@event_type("pool.slots_requested", topic=POOL)
class PoolSlotsRequested(_SlotEvent, frozen=True, kw_only=True):
    """A scheduled try waits for ``slots`` of ``pool``; the arbiter grants in Airflow's priority order."""

    slots: int = 1
    priority_weight: int = 1
    logical_date: datetime


@event_type("pool.slots_granted", topic=POOL)
class PoolSlotsGranted(_SlotEvent, frozen=True, kw_only=True):
    """The try holds its slots until released; its owner queues it on reading this."""


@event_type("pool.slots_released", topic=POOL)
class PoolSlotsReleased(_SlotEvent, frozen=True, kw_only=True):
    """The try left queued/running (or never got there): its request or grant is withdrawn."""

    reason: str
