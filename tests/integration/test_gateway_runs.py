"""DAG runs through the REST API: triggers go to the log, reads come from the projected runs."""

from __future__ import annotations

import asyncio
import json

from couture_common.events import (
    DagRunDeleted,
    DagRunRequested,
    DagRunStateSet,
    TaskInstancesCleared,
    XComPushed,
)

from .test_gateway import START, Harness, harness, signing_key_pem

__all__ = ["harness", "signing_key_pem"]


async def test_trigger_appends_the_request_and_answers_a_queued_run(harness: Harness) -> None:
    await harness.add_dag("etl")
    answer = await harness.post(
        "/api/v2/dags/etl/dagRuns",
        json={"dag_run_id": "my_run", "logical_date": "2024-02-01T00:00:00Z", "conf": {"n": 3}, "note": "hi"},
    )
    assert answer.status_code == 200, answer.text
    run = answer.json()
    assert run["dag_run_id"] == "my_run"
    assert run["state"] == "queued"
    assert run["run_type"] == "manual"
    assert run["conf"] == {"n": 3}
    assert run["triggered_by"] == "rest_api"
    assert run["triggering_user_name"] == "superadmin"
    [requested] = await harness.logged(DagRunRequested)
    assert (requested.dag_id, requested.run_id, requested.conf, requested.note) == (
        "etl",
        "my_run",
        {"n": 3},
        "hi",
    )

    again = await harness.get("/api/v2/dags/etl/dagRuns/my_run")
    assert again.json()["state"] == "queued"


async def test_trigger_without_run_id_names_it_after_the_logical_date(harness: Harness) -> None:
    await harness.add_dag("etl")
    run = (
        await harness.post("/api/v2/dags/etl/dagRuns", json={"logical_date": "2024-02-01T00:00:00Z"})
    ).json()
    assert run["dag_run_id"] == "manual__2024-02-01T00:00:00+00:00"


async def test_trigger_errors_are_404_409_and_422(harness: Harness) -> None:
    await harness.add_dag("etl")
    missing = await harness.post("/api/v2/dags/nope/dagRuns", json={})
    assert missing.status_code == 404
    assert missing.json() == {"detail": "The Dag with ID: `nope` was not found"}

    first = await harness.post("/api/v2/dags/etl/dagRuns", json={"dag_run_id": "r1"})
    assert first.status_code == 200
    duplicate = await harness.post("/api/v2/dags/etl/dagRuns", json={"dag_run_id": "r1"})
    assert duplicate.status_code == 409
    assert "r1" in duplicate.json()["detail"]

    bad_conf = await harness.post("/api/v2/dags/etl/dagRuns", json={"conf": "not an object"})
    assert bad_conf.status_code == 422
    assert bad_conf.json()["detail"][0]["loc"] == ["body", "conf"]
    half_interval = await harness.post(
        "/api/v2/dags/etl/dagRuns", json={"data_interval_start": "2024-02-01T00:00:00Z"}
    )
    assert half_interval.status_code == 422
    assert half_interval.json()["detail"][0]["loc"] == ["body", "data_interval_end"]
    typo = await harness.post("/api/v2/dags/etl/dagRuns", json={"confs": {}})
    assert typo.status_code == 422
    assert typo.json()["detail"][0]["loc"] == ["body", "confs"]
    assert len(await harness.logged(DagRunRequested)) == 1


async def test_runs_list_across_dags_with_tilde_and_the_batch_endpoint(harness: Harness) -> None:
    await harness.add_dag("etl")
    await harness.add_dag("report")
    for dag_id, day in (("etl", 1), ("etl", 2), ("report", 3)):
        await harness.post(
            f"/api/v2/dags/{dag_id}/dagRuns", json={"logical_date": f"2024-02-0{day}T00:00:00Z"}
        )

    etl = (await harness.get("/api/v2/dags/etl/dagRuns", params={"order_by": "-logical_date"})).json()
    assert etl["total_entries"] == 2
    assert [r["logical_date"] for r in etl["dag_runs"]] == ["2024-02-02T00:00:00Z", "2024-02-01T00:00:00Z"]

    everything = (await harness.get("/api/v2/dags/~/dagRuns", params={"limit": 2})).json()
    assert everything["total_entries"] == 3
    assert len(everything["dag_runs"]) == 2
    later = (
        await harness.get("/api/v2/dags/~/dagRuns", params={"logical_date_gte": "2024-02-02T00:00:00Z"})
    ).json()
    assert sorted(r["dag_id"] for r in later["dag_runs"]) == ["etl", "report"]
    naive = (
        await harness.get("/api/v2/dags/~/dagRuns", params={"logical_date_gte": "2024-02-02T00:00:00"})
    ).json()
    assert naive["total_entries"] == 2

    batch = await harness.post(
        "/api/v2/dags/~/dagRuns/list", json={"dag_ids": ["report"], "states": ["queued"]}
    )
    assert batch.status_code == 200
    assert [r["dag_id"] for r in batch.json()["dag_runs"]] == ["report"]
    assert (await harness.get("/api/v2/dags/etl/dagRuns/nope")).status_code == 404


async def test_accepted_run_shows_its_dag_version(harness: Harness) -> None:
    await harness.add_dag("etl")
    await harness.post(
        "/api/v2/dags/etl/dagRuns", json={"dag_run_id": "r1", "logical_date": START.isoformat()}
    )
    await harness.accept_run("etl", "r1")
    run = (await harness.get("/api/v2/dags/etl/dagRuns/r1")).json()
    assert [v["version_number"] for v in run["dag_versions"]] == [1]
    assert run["data_interval_end"] == "2024-01-02T00:00:00Z"


async def test_patch_run_state_appends_the_change(harness: Harness) -> None:
    await harness.add_dag("etl")
    await harness.post("/api/v2/dags/etl/dagRuns", json={"dag_run_id": "r1"})
    answer = await harness.patch("/api/v2/dags/etl/dagRuns/r1", json={"state": "failed"})
    assert answer.status_code == 200
    assert answer.json()["state"] == "failed"
    assert await harness.logged(DagRunStateSet) == [DagRunStateSet(dag_id="etl", run_id="r1", state="failed")]
    bad = await harness.patch("/api/v2/dags/etl/dagRuns/r1", json={"state": "running"})
    assert bad.status_code == 422
    assert bad.json()["detail"][0]["loc"] == ["body", "state"]


async def test_clear_run_dry_run_lists_and_real_clear_appends(harness: Harness) -> None:
    await harness.add_dag("etl")
    await harness.post(
        "/api/v2/dags/etl/dagRuns", json={"dag_run_id": "r1", "logical_date": START.isoformat()}
    )
    await harness.accept_run("etl", "r1")
    await harness.run_task("etl", "r1", "extract", "success")
    await harness.run_task("etl", "r1", "transform", "failed")

    dry = await harness.post("/api/v2/dags/etl/dagRuns/r1/clear", json={"dry_run": True, "only_failed": True})
    assert dry.status_code == 200
    assert [ti["task_id"] for ti in dry.json()["task_instances"]] == ["transform"]
    assert await harness.logged(TaskInstancesCleared) == []

    real = await harness.post(
        "/api/v2/dags/etl/dagRuns/r1/clear", json={"dry_run": False, "only_failed": True}
    )
    assert real.status_code == 200
    assert real.json()["dag_run_id"] == "r1"
    [cleared] = await harness.logged(TaskInstancesCleared)
    assert cleared.task_ids == ("transform",)


async def test_delete_run(harness: Harness) -> None:
    await harness.add_dag("etl")
    await harness.post("/api/v2/dags/etl/dagRuns", json={"dag_run_id": "r1"})
    assert (await harness.delete("/api/v2/dags/etl/dagRuns/r1")).status_code == 204
    assert await harness.logged(DagRunDeleted) == [DagRunDeleted(dag_id="etl", run_id="r1")]
    assert (await harness.get("/api/v2/dags/etl/dagRuns/r1")).status_code == 404
    assert (await harness.delete("/api/v2/dags/etl/dagRuns/r1")).status_code == 404


async def test_wait_streams_states_until_the_run_finishes_with_results(harness: Harness) -> None:
    await harness.add_dag("etl")
    await harness.post(
        "/api/v2/dags/etl/dagRuns", json={"dag_run_id": "r1", "logical_date": START.isoformat()}
    )
    await harness.accept_run("etl", "r1")
    await harness.append(
        XComPushed(dag_id="etl", run_id="r1", task_id="load", try_number=1, key="return_value", value="42")
    )

    async def finish_soon() -> None:
        await asyncio.sleep(0.5)
        await harness.patch("/api/v2/dags/etl/dagRuns/r1", json={"state": "success"})

    finishing = asyncio.create_task(finish_soon())
    answer = await harness.get(
        "/api/v2/dags/etl/dagRuns/r1/wait", params={"interval": 0.05, "result": ["load"]}
    )
    await finishing
    assert answer.headers["content-type"].startswith("application/x-ndjson")
    lines = [json.loads(line) for line in answer.text.splitlines()]
    assert lines[0] == {"state": "queued"}
    assert lines[-1] == {"state": "success", "results": {"load": 42}}
    assert len(lines) >= 2


async def test_pages_ordered_by_a_shared_value_neither_overlap_nor_skip(harness: Harness) -> None:
    await harness.add_dag("etl")
    for n in range(7):
        await harness.post("/api/v2/dags/etl/dagRuns", json={"dag_run_id": f"r{n}"})
    seen: list[str] = []
    for offset in range(0, 7, 3):
        page = await harness.get(
            "/api/v2/dags/etl/dagRuns", params={"order_by": "state", "limit": 3, "offset": offset}
        )
        seen += [r["dag_run_id"] for r in page.json()["dag_runs"]]
    assert sorted(seen) == [f"r{n}" for n in range(7)]
