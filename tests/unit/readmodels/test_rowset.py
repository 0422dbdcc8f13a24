"""A batch's row set handed to the next batch holds exactly what the database holds after its commit."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import pytest

from couture_gateway.readmodels.rowset import RowSet, Scope, ScopeNotLoadedError
from couture_gateway.readmodels.tables import dag, dag_run
from tests.unit.readmodels.test_store import example_row


def a_dag(dag_id: str, fileloc: str) -> dict[str, Any]:
    return {**example_row(dag, 0), "dag_id": dag_id, "fileloc": fileloc}


def by_file(fileloc: str) -> Scope:
    return Scope(dag.name, ("fileloc",), (fileloc,))


def by_run(dag_id: str, run_id: str) -> Scope:
    return Scope(dag_run.name, ("dag_id", "run_id"), (dag_id, run_id))


def test_rows_are_carried_by_the_scopes_they_are_in_after_the_batch() -> None:
    rows = RowSet()
    rows.add_loaded(by_file("/a.py"), [a_dag("moves", "/a.py"), a_dag("stays", "/a.py")])
    rows.add_loaded(by_file("/b.py"), [a_dag("goes", "/b.py")])
    rows.update(dag, rows.where(dag, fileloc="/a.py")[0], fileloc="/b.py")
    rows.delete(dag, ("goes",))

    carried, missing = rows.carry([by_file("/a.py"), by_file("/b.py"), by_file("/c.py")])

    assert missing == [by_file("/c.py")]
    assert [r["dag_id"] for r in carried.where(dag, fileloc="/a.py")] == ["stays"]
    assert [r["dag_id"] for r in carried.where(dag, fileloc="/b.py")] == ["moves"]
    # Nothing is written again for what the previous batch wrote.
    assert list(carried.changes()) == []


def test_only_the_scopes_asked_for_are_carried() -> None:
    rows = RowSet()
    rows.add_loaded(by_run("etl", "r1"), [])
    rows.add_loaded(by_run("etl", "r2"), [])

    carried, missing = rows.carry([by_run("etl", "r2")])

    assert missing == []
    assert carried.get(dag_run, ("etl", "r2")) is None
    with pytest.raises(ScopeNotLoadedError):
        carried.get(dag_run, ("etl", "r1"))


def test_timestamps_written_from_events_are_carried_as_the_database_returns_them() -> None:
    naive, in_paris = datetime(2024, 5, 1, 12), datetime(2024, 5, 1, 14, tzinfo=timezone(timedelta(hours=2)))
    rows = RowSet()
    rows.add_loaded(by_run("etl", "r1"), [])
    rows.put(dag_run, {**example_row(dag_run, 0), "dag_id": "etl", "run_id": "r1", "start_date": naive})
    rows.update(dag_run, rows.where(dag_run, dag_id="etl", run_id="r1")[0], end_date=in_paris)

    carried, _ = rows.carry([by_run("etl", "r1")])

    run = carried.get(dag_run, ("etl", "r1"))
    assert run is not None
    assert run["start_date"] == datetime(2024, 5, 1, 12, tzinfo=UTC)
    assert run["start_date"].tzinfo is UTC and run["end_date"].tzinfo is UTC
    assert run["end_date"] == datetime(2024, 5, 1, 12, tzinfo=UTC)


def test_rows_read_before_the_previous_batch_is_written_are_laid_over_with_its_changes() -> None:
    # The database before the previous batch: /a.py holds "moves" and "stays", /b.py holds "goes".
    before = {"/a.py": [a_dag("moves", "/a.py"), a_dag("stays", "/a.py")], "/b.py": [a_dag("goes", "/b.py")]}
    previous = RowSet()
    previous.add_loaded(Scope(dag.name, ("dag_id",), ("moves",)), [before["/a.py"][0]])
    previous.add_loaded(Scope(dag.name, ("dag_id",), ("goes",)), before["/b.py"])
    previous.add_loaded(Scope(dag.name, ("dag_id",), ("new",)), [])
    previous.update(dag, before["/a.py"][0], fileloc="/b.py")
    previous.delete(dag, ("goes",))
    previous.put(dag, {**a_dag("new", "/a.py"), "last_parsed_time": datetime(2024, 5, 1, 12)})
    # The next batch reads other scopes (by file) from the database, not yet written.
    following = RowSet()
    for fileloc in ("/a.py", "/b.py"):
        following.add_loaded(by_file(fileloc), before[fileloc])

    following.lay_over(previous, [dag.name])

    assert [r["dag_id"] for r in following.where(dag, fileloc="/a.py")] == ["new", "stays"]
    assert [r["dag_id"] for r in following.where(dag, fileloc="/b.py")] == ["moves"]
    assert following.get(dag, ("goes",)) is None
    new = following.get(dag, ("new",))
    assert new is not None and new["last_parsed_time"] == datetime(2024, 5, 1, 12, tzinfo=UTC)
    # Laid over, not changed here: the previous batch writes these rows, this one does not again.
    assert list(following.changes()) == []
