"""Compaction must lose nothing: folding a compacted topic's survivors gives what folding it all gives.

Kafka compaction keeps only the newest record per key, so a topic may be compacted only when each
of its events states its key's whole state. These tests compact random histories the way Kafka
does and compare the folds every reader of the topic runs.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from datetime import UTC, datetime

import pytest

from couture_common.config_view import ConfigView
from couture_common.eventlog import Record
from couture_common.events import (
    ConnectionDeleted,
    ConnectionSet,
    Event,
    PoolDeleted,
    PoolSet,
    VariableDeleted,
    VariableSet,
)
from couture_common.events.envelope import envelope
from couture_common.topics import CONFIG, TOPICS
from couture_scheduler.domain.fold import apply
from couture_scheduler.domain.state import SchedulerState

T0 = datetime(2026, 1, 1, tzinfo=UTC)


def config_history(rng: random.Random, length: int) -> list[Event]:
    keys, conn_ids, entries, pools = ["a", "b", "c"], ["warehouse", "lake"], ["e1", "e2", "e3"], ["p1", "p2"]
    events: list[Event] = []
    #: Where each connection entry lives: a delete names it, as the gateway and CLI do.
    conn_of: dict[str, str] = {}
    for n in range(length):
        match rng.randrange(6):
            case 0:
                events.append(VariableSet(key=rng.choice(keys), value=f"token-{n}"))
            case 1:
                events.append(VariableDeleted(key=rng.choice(keys)))
            case 2:
                entry_id, conn_id = rng.choice(entries), rng.choice(conn_ids)
                conn_of[entry_id] = conn_id
                events.append(
                    ConnectionSet(
                        entry_id=entry_id,
                        conn_id=conn_id,
                        conn_type="postgres",
                        host=f"db{n}",
                        password=f"t{n}",
                    )
                )
            case 3:
                entry_id = rng.choice(entries)
                conn_id = conn_of.pop(entry_id, rng.choice(conn_ids))
                events.append(ConnectionDeleted(entry_id=entry_id, conn_id=conn_id))
            case 4:
                events.append(PoolSet(name=rng.choice(pools), slots=rng.randrange(1, 9)))
            case _:
                events.append(PoolDeleted(name=rng.choice(pools)))
    return events


def compacted(events: list[Event]) -> list[Event]:
    """What Kafka's compaction leaves: each key's newest event, in log order."""
    newest = {event.partition_key(): index for index, event in enumerate(events)}
    return [event for index, event in enumerate(events) if newest[event.partition_key()] == index]


def config_readers(events: list[Event]) -> object:
    view, scheduler = ConfigView(), SchedulerState()
    for offset, event in enumerate(events):
        view.apply(event)
        apply(scheduler, Record(CONFIG, 0, offset, envelope(event, actor="test", time=T0)))
    variables = {key: view.variable_token(key) for key in view.variable_keys()}
    connections = [(e.entry_id, e.conn_id, e.host, e.password) for e in view.connection_entries()]
    return variables, connections, scheduler.pools


#: Per compacted topic: a random history of its events, and the folds its readers run.
PROOFS: dict[str, tuple[Callable[[random.Random, int], list[Event]], Callable[[list[Event]], object]]] = {
    CONFIG: (config_history, config_readers),
}


def test_every_compacted_topic_has_a_proof_that_compaction_loses_nothing() -> None:
    assert {name for name, spec in TOPICS.items() if spec.compacted} == set(PROOFS)


@pytest.mark.parametrize("topic", sorted(PROOFS))
@pytest.mark.parametrize("seed", range(40))
def test_folding_the_compacted_topic_equals_folding_it_all(topic: str, seed: int) -> None:
    history, readers = PROOFS[topic]
    events = history(random.Random(seed), 60)
    survivors = compacted(events)

    assert len(survivors) < len(events)
    assert readers(survivors) == readers(events)
