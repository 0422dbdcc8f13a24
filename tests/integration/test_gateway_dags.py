"""DAGs, tasks, sources and stats through the REST API, seeded by real ``dag`` events."""

from __future__ import annotations

from couture_common.events import DagParsed, DagPausedSet

from .test_gateway import Harness, dag_spec, harness, signing_key_pem

__all__ = ["harness", "signing_key_pem"]


async def test_dag_list_pages_orders_and_counts_all_matches(harness: Harness) -> None:
    for dag_id in ("alpha", "bravo", "charlie"):
        await harness.add_dag(dag_id)

    first = (await harness.get("/api/v2/dags", params={"limit": 2, "order_by": "-dag_id"})).json()
    assert [d["dag_id"] for d in first["dags"]] == ["charlie", "bravo"]
    assert first["total_entries"] == 3
    rest = (await harness.get("/api/v2/dags", params={"limit": 2, "offset": 2, "order_by": "-dag_id"})).json()
    assert [d["dag_id"] for d in rest["dags"]] == ["alpha"]


async def test_dag_list_filters_by_pattern_tags_owners_and_paused(harness: Harness) -> None:
    await harness.add_dag("etl_sales", tags=["sales", "daily"], owner="ana")
    await harness.add_dag("etl_stock", tags=["stock"], owner="bo")
    await harness.add_dag("report", tags=["sales"], owner="bo", paused_at_creation=False)

    async def ids(**params: object) -> list[str]:
        answer = await harness.get("/api/v2/dags", params=params)
        assert answer.status_code == 200, answer.text
        return [d["dag_id"] for d in answer.json()["dags"]]

    assert await ids(dag_id_pattern="etl") == ["etl_sales", "etl_stock"]
    assert await ids(tags=["sales"]) == ["etl_sales", "report"]
    assert await ids(tags=["sales", "daily"], tags_match_mode="all") == ["etl_sales"]
    assert await ids(owners=["bo"]) == ["etl_stock", "report"]
    assert await ids(paused="false") == ["report"]


async def test_dag_list_limits_follow_airflow(harness: Harness) -> None:
    too_many = await harness.get("/api/v2/dags", params={"limit": 101})
    assert too_many.status_code == 422
    assert too_many.json()["detail"][0]["loc"] == ["query", "limit"]
    bad_order = await harness.get("/api/v2/dags", params={"order_by": "colour"})
    assert bad_order.status_code == 400
    assert bad_order.json() == {
        "detail": "Ordering with 'colour' is disallowed or the attribute does not exist on the model"
    }


async def test_get_dag_shows_airflow_fields_and_unknown_dag_is_404(harness: Harness) -> None:
    await harness.add_dag("etl", tags=["sales"], owner="ana")
    dag = (await harness.get("/api/v2/dags/etl")).json()
    assert dag["dag_id"] == "etl"
    assert dag["is_paused"] is True
    assert dag["owners"] == ["ana"]
    assert dag["tags"] == [{"name": "sales", "dag_id": "etl", "dag_display_name": "etl"}]
    assert dag["timetable_periodic"] is True
    assert dag["timetable_summary"] == "@daily"
    assert dag["next_dagrun_logical_date"] == "2024-01-01T00:00:00Z"

    missing = await harness.get("/api/v2/dags/nope")
    assert missing.status_code == 404
    assert missing.json() == {"detail": "The Dag with ID: `nope` was not found"}


async def test_unpausing_a_dag_appends_the_event_and_reads_back_at_once(harness: Harness) -> None:
    await harness.add_dag("etl")
    answer = await harness.patch("/api/v2/dags/etl", json={"is_paused": False})
    assert answer.status_code == 200
    assert answer.json()["is_paused"] is False
    assert (await harness.get("/api/v2/dags/etl")).json()["is_paused"] is False
    assert await harness.logged(DagPausedSet) == [DagPausedSet(dag_id="etl", is_paused=False)]


async def test_patch_dag_refuses_other_fields_and_bad_bodies(harness: Harness) -> None:
    await harness.add_dag("etl")
    masked = await harness.patch(
        "/api/v2/dags/etl", params={"update_mask": "description"}, json={"is_paused": True}
    )
    assert masked.status_code == 400
    no_field = await harness.patch("/api/v2/dags/etl", json={"paused": True})
    assert no_field.status_code == 422
    assert {tuple(e["loc"]) for e in no_field.json()["detail"]} >= {("body", "is_paused")}
    assert (await harness.patch("/api/v2/dags/nope", json={"is_paused": True})).status_code == 404


async def test_bulk_pause_by_pattern_pauses_only_matches(harness: Harness) -> None:
    for dag_id in ("etl_a", "etl_b", "report"):
        await harness.add_dag(dag_id, paused_at_creation=False)
    answer = await harness.patch("/api/v2/dags", params={"dag_id_pattern": "etl"}, json={"is_paused": True})
    assert answer.status_code == 200
    assert sorted(d["dag_id"] for d in answer.json()["dags"]) == ["etl_a", "etl_b"]
    listed = (await harness.get("/api/v2/dags")).json()["dags"]
    assert {d["dag_id"]: d["is_paused"] for d in listed} == {"etl_a": True, "etl_b": True, "report": False}


async def test_details_tasks_and_source(harness: Harness) -> None:
    await harness.add_dag("etl")
    details = (await harness.get("/api/v2/dags/etl/details")).json()
    assert details["catchup"] is True
    assert details["start_date"] == "2024-01-01T00:00:00Z"
    assert details["latest_dag_version"]["version_number"] == 1

    tasks = (await harness.get("/api/v2/dags/etl/tasks")).json()
    assert [t["task_id"] for t in tasks["tasks"]] == ["extract", "load", "transform"]
    transform = (await harness.get("/api/v2/dags/etl/tasks/transform")).json()
    assert transform["downstream_task_ids"] == ["load"]
    assert transform["retries"] == 2
    assert transform["retry_delay"] == {"__type": "TimeDelta", "days": 0, "seconds": 300, "microseconds": 0}
    assert (await harness.get("/api/v2/dags/etl/tasks/nope")).status_code == 404

    source = await harness.get("/api/v2/dagSources/etl")
    assert source.json()["content"] == "# the source of etl\n"
    plain = await harness.get("/api/v2/dagSources/etl", headers={"Accept": "text/plain"})
    assert plain.text == "# the source of etl\n"


async def test_dag_stats_count_runs_per_state(harness: Harness) -> None:
    await harness.add_dag("etl")
    await harness.post("/api/v2/dags/etl/dagRuns", json={"logical_date": "2024-02-01T00:00:00Z"})
    stats = (await harness.get("/api/v2/dagStats", params={"dag_ids": ["etl"]})).json()
    assert stats["total_entries"] == 1
    counts = {s["state"]: s["count"] for s in stats["dags"][0]["stats"]}
    assert counts == {"queued": 1, "running": 0, "success": 0, "failed": 0}


async def test_dag_versions_number_each_parsed_file_content(harness: Harness) -> None:
    await harness.add_dag("etl")
    await harness.append(DagParsed(dag_id="etl", version="f" * 64, spec=dag_spec("etl", tags=["v2"])))
    versions = (
        await harness.get("/api/v2/dags/etl/dagVersions", params={"order_by": "-version_number"})
    ).json()
    assert [(v["version_number"], v["bundle_version"]) for v in versions["dag_versions"]] == [
        (2, "f" * 64),
        (1, harness.versions["etl"]),
    ]
    assert (await harness.get("/api/v2/dags/etl/dagVersions/2")).json()["version_number"] == 2
    assert (await harness.get("/api/v2/dags/etl/dagVersions/3")).status_code == 404
    assert (await harness.get("/api/v2/dags/etl")).json()["tags"][0]["name"] == "v2"
