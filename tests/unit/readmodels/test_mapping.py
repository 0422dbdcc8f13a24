"""The mapping covers every projected event, and a fold can only touch rows it declared."""

from __future__ import annotations

import pytest

from couture_common.events import registered_types
from couture_gateway.readmodels.fold import MAPPING
from couture_gateway.readmodels.positions import PROJECTED_TOPICS, position_id
from couture_gateway.readmodels.rowset import RowSet, Scope, ScopeNotLoadedError
from couture_gateway.readmodels.tables import dag, pool


def test_every_event_on_a_projected_topic_has_a_mapping() -> None:
    projected = {cls for cls in registered_types().values() if cls.TOPIC in PROJECTED_TOPICS}

    assert projected == set(MAPPING)


def test_heartbeats_are_not_projected() -> None:
    assert registered_types()["ti.heartbeat"].TOPIC not in PROJECTED_TOPICS


def test_reading_a_row_outside_the_loaded_scopes_is_refused() -> None:
    rows = RowSet()
    rows.add_loaded(Scope("dag", ("fileloc",), ("/dags/a.py",)), [])

    assert rows.where(dag, fileloc="/dags/a.py") == []
    with pytest.raises(ScopeNotLoadedError, match="dag row"):
        rows.get(dag, ("etl",))
    with pytest.raises(ScopeNotLoadedError):
        rows.where(dag, fileloc="/dags/b.py")


def test_a_row_must_give_every_column() -> None:
    rows = RowSet()
    rows.add_loaded(Scope("pool", ("name",), ("p",)), [])

    with pytest.raises(ValueError, match=r"missing \['include_deferred'\]"):
        rows.put(pool, {"name": "p", "slots": 1, "description": None})


def test_position_ids_are_unique_and_grow_with_the_offset() -> None:
    ids = {
        position_id(topic, partition, offset)
        for topic, partitions in (("dag", 1), ("config", 1), ("run", 8))
        for partition in range(partitions)
        for offset in range(50)
    }

    assert len(ids) == 50 * 10
    assert min(ids) > 0
    assert position_id("run", 3, 7) < position_id("run", 3, 8)
