"""Given DAG-topic events, the dag, dag_version, dag_tag and import_error tables the API lists."""

from __future__ import annotations

import json
from datetime import timedelta

from couture_common.dagspec import ScheduleSpec
from couture_common.events import (
    DagFileProcessed,
    DagFileRemoved,
    DagImportFailed,
    DagParsed,
    DagPausedSet,
    DagRunCreated,
)
from couture_gateway.readmodels.fold.schedule import next_dagrun
from couture_gateway.readmodels.tables import dag, dag_tag, dag_version, event_log, import_error

from .builders import T0, ReadModels, spec


async def test_a_new_dag_is_listed_paused_with_its_first_version(models: ReadModels) -> None:
    await models.given(DagParsed(dag_id="etl", version="v1", spec=spec()))

    row = await models.one(dag, dag_id="etl")
    assert row["is_paused"] is True
    assert row["is_active"] is True
    assert row["fileloc"] == "/dags/etl.py"
    assert row["owners"] == ["data"]
    assert row["tags"] == ["nightly"]
    assert row["timetable_summary"] == "@daily"
    assert row["latest_version"] == "v1"
    assert row["last_parsed_time"] == models.clock
    assert [t["name"] for t in await models.rows(dag_tag)] == ["nightly"]
    version = await models.one(dag_version, dag_id="etl")
    assert version["version_number"] == 1
    assert [t["task_id"] for t in version["spec"]["tasks"]] == ["extract", "load"]
    assert version["spec"]["tasks"][1]["upstream"] == ["extract"]


async def test_a_dag_created_with_is_paused_upon_creation_false_starts_unpaused(models: ReadModels) -> None:
    await models.given(DagParsed(dag_id="etl", version="v1", spec=spec(is_paused_upon_creation=False)))

    assert (await models.one(dag, dag_id="etl"))["is_paused"] is False


async def test_reparsing_keeps_the_pause_state_and_numbers_only_new_versions(models: ReadModels) -> None:
    await models.given(DagParsed(dag_id="etl", version="v1", spec=spec()))
    await models.given(DagPausedSet(dag_id="etl", is_paused=False), actor="user:alice")
    await models.given(
        DagParsed(dag_id="etl", version="v1", spec=spec()),
        DagParsed(dag_id="etl", version="v2", spec=spec("etl", "extract", "transform", "load", tags=())),
    )

    row = await models.one(dag, dag_id="etl")
    assert row["is_paused"] is False
    assert row["latest_version"] == "v2"
    assert row["tags"] == []
    assert await models.rows(dag_tag) == []
    assert [(v["version"], v["version_number"]) for v in await models.rows(dag_version)] == [
        ("v1", 1),
        ("v2", 2),
    ]


async def test_pause_and_unpause_are_in_the_audit_log(models: ReadModels) -> None:
    await models.given(DagParsed(dag_id="etl", version="v1", spec=spec()))
    await models.given(
        DagPausedSet(dag_id="etl", is_paused=False),
        DagPausedSet(dag_id="etl", is_paused=True),
        actor="user:bob",
    )

    assert (await models.one(dag, dag_id="etl"))["is_paused"] is True
    entries = await models.rows(event_log)
    assert [(e["event"], e["owner"], e["dag_id"]) for e in entries] == [
        ("unpause", "bob", "etl"),
        ("pause", "bob", "etl"),
    ]
    assert json.loads(entries[1]["extra"]) == {"is_paused": True}


async def test_a_file_that_no_longer_defines_a_dag_deactivates_it(models: ReadModels) -> None:
    await models.given(
        DagParsed(dag_id="a", version="v1", spec=spec("a", fileloc="/dags/two.py")),
        DagParsed(dag_id="b", version="v1", spec=spec("b", fileloc="/dags/two.py")),
        DagFileProcessed(fileloc="/dags/two.py", version="v1", dag_ids=("a", "b")),
    )
    await models.given(
        DagParsed(dag_id="a", version="v2", spec=spec("a", fileloc="/dags/two.py")),
        DagFileProcessed(fileloc="/dags/two.py", version="v2", dag_ids=("a",)),
    )

    assert {r["dag_id"]: r["is_active"] for r in await models.rows(dag)} == {"a": True, "b": False}


async def test_an_import_error_is_one_row_per_file_until_the_file_parses(models: ReadModels) -> None:
    await models.given(DagParsed(dag_id="etl", version="v1", spec=spec()))
    await models.given(DagImportFailed(fileloc="/dags/etl.py", version="v2", stacktrace="SyntaxError: one"))
    first = await models.one(import_error)
    await models.given(DagImportFailed(fileloc="/dags/etl.py", version="v3", stacktrace="NameError: two"))

    again = await models.one(import_error)
    assert again["import_error_id"] == first["import_error_id"]
    assert (again["stacktrace"], again["version"]) == ("NameError: two", "v3")
    assert (await models.one(dag, dag_id="etl"))["has_import_errors"] is True

    await models.given(
        DagParsed(dag_id="etl", version="v4", spec=spec()),
        DagFileProcessed(fileloc="/dags/etl.py", version="v4", dag_ids=("etl",)),
    )
    assert await models.rows(import_error) == []
    assert (await models.one(dag, dag_id="etl"))["has_import_errors"] is False


async def test_removing_a_file_deactivates_its_dags_and_forgets_its_import_error(models: ReadModels) -> None:
    await models.given(
        DagParsed(dag_id="etl", version="v1", spec=spec()),
        DagImportFailed(fileloc="/dags/etl.py", version="v2", stacktrace="boom"),
    )
    await models.given(DagFileRemoved(fileloc="/dags/etl.py"))

    assert (await models.one(dag, dag_id="etl"))["is_active"] is False
    assert await models.rows(import_error) == []


async def test_a_scheduled_dag_shows_its_next_run_and_scheduled_runs_move_it(models: ReadModels) -> None:
    await models.given(DagParsed(dag_id="etl", version="v1", spec=spec()))
    now = T0 + timedelta(days=10)
    row = await models.one(dag, dag_id="etl")
    assert row["next_dagrun_logical_date"] == T0
    first = next_dagrun(row, now)
    assert (first["next_dagrun_logical_date"], first["next_dagrun_run_after"]) == (T0, T0 + timedelta(days=1))

    day = timedelta(days=1)
    await models.given(
        DagRunCreated(
            dag_id="etl",
            run_id="scheduled__1",
            run_type="scheduled",
            logical_date=T0,
            data_interval_start=T0,
            data_interval_end=T0 + day,
            dag_version="v1",
        ),
        DagRunCreated(
            dag_id="etl",
            run_id="manual__1",
            run_type="manual",
            logical_date=T0 + 5 * day,
            data_interval_start=T0 + 5 * day,
            data_interval_end=T0 + 5 * day,
            dag_version="v1",
        ),
    )

    row = await models.one(dag, dag_id="etl")
    assert row["next_dagrun_logical_date"] == T0 + day
    then = next_dagrun(row, now)
    assert then["next_dagrun_logical_date"] == T0 + day
    assert (then["next_dagrun_data_interval_start"], then["next_dagrun_data_interval_end"]) == (
        T0 + day,
        T0 + 2 * day,
    )


async def test_a_dag_without_schedule_has_no_next_run(models: ReadModels) -> None:
    await models.given(DagParsed(dag_id="etl", version="v1", spec=spec(schedule=ScheduleSpec(kind="none"))))

    row = await models.one(dag, dag_id="etl")
    assert row["timetable_description"] == "Never, external triggers only"
    assert next_dagrun(row, T0)["next_dagrun_logical_date"] is None
