"""Task instances, their tries, logs and XComs through the REST API."""

from __future__ import annotations

from couture_common.events import (
    DagRunNoteSet,
    TaskInstanceNoteSet,
    TaskInstancesCleared,
    TaskInstanceStateSet,
    XComPushed,
)

from .test_gateway import START, Harness, harness, signing_key_pem

__all__ = ["harness", "signing_key_pem"]


async def _run_with_results(harness: Harness) -> None:
    await harness.add_dag("etl")
    await harness.post(
        "/api/v2/dags/etl/dagRuns", json={"dag_run_id": "r1", "logical_date": START.isoformat()}
    )
    await harness.accept_run("etl", "r1")
    await harness.run_task("etl", "r1", "extract", "success")
    await harness.run_task("etl", "r1", "transform", "up_for_retry")
    await harness.run_task("etl", "r1", "transform", "failed", try_number=2)


async def test_task_instances_of_a_run_with_filters_and_tries(harness: Harness) -> None:
    await _run_with_results(harness)
    listed = (await harness.get("/api/v2/dags/etl/dagRuns/r1/taskInstances")).json()
    assert listed["total_entries"] == 3
    states = {ti["task_id"]: ti["state"] for ti in listed["task_instances"]}
    assert states == {"extract": "success", "transform": "failed", "load": None}

    failed = (await harness.get("/api/v2/dags/~/dagRuns/~/taskInstances", params={"state": "failed"})).json()
    assert [ti["task_id"] for ti in failed["task_instances"]] == ["transform"]

    transform = (await harness.get("/api/v2/dags/etl/dagRuns/r1/taskInstances/transform")).json()
    assert transform["try_number"] == 2
    assert transform["hostname"] == "worker-1"
    assert transform["logical_date"] == "2024-01-01T00:00:00Z"

    tries = (await harness.get("/api/v2/dags/etl/dagRuns/r1/taskInstances/transform/tries")).json()
    assert [(t["try_number"], t["state"]) for t in tries["task_instances"]] == [
        (1, "failed"),
        (2, "failed"),
    ]
    second = (await harness.get("/api/v2/dags/etl/dagRuns/r1/taskInstances/transform/tries/2")).json()
    assert second["state"] == "failed"
    assert (
        await harness.get("/api/v2/dags/etl/dagRuns/r1/taskInstances/transform/tries/9")
    ).status_code == 404
    assert (await harness.get("/api/v2/dags/etl/dagRuns/r1/taskInstances/nope")).status_code == 404

    batch = await harness.post("/api/v2/dags/~/dagRuns/~/taskInstances/list", json={"task_ids": ["extract"]})
    assert [ti["task_id"] for ti in batch.json()["task_instances"]] == ["extract"]


async def test_log_of_a_try_in_airflow_shape_with_continuation(harness: Harness) -> None:
    await _run_with_results(harness)
    path = harness.settings.logs_path / "dag_id=etl" / "run_id=r1" / "task_id=transform" / "attempt=2.log"
    path.parent.mkdir(parents=True)
    path.write_text(
        'plain line\n{"event": "structured", "level": "info", "timestamp": "2024-01-01T00:00:01Z"}\n'
    )

    url = "/api/v2/dags/etl/dagRuns/r1/taskInstances/transform/logs/2"
    first = (await harness.get(url)).json()
    assert first["content"] == [
        {"event": "plain line", "timestamp": None},
        {"event": "structured", "level": "info", "timestamp": "2024-01-01T00:00:01Z"},
    ]
    with path.open("a") as fh:
        fh.write("third line\n")
    more = (await harness.get(url, params={"token": first["continuation_token"]})).json()
    assert more["content"] == [{"event": "third line", "timestamp": None}]
    whole = (
        await harness.get(url, params={"full_content": "true", "token": more["continuation_token"]})
    ).json()
    assert len(whole["content"]) == 3
    text = await harness.get(url, headers={"Accept": "text/plain"})
    assert text.text == "plain line\nstructured\nthird line\n"

    assert (await harness.get(url, params={"token": "garbage"})).status_code == 400
    assert (
        await harness.get("/api/v2/dags/etl/dagRuns/r1/taskInstances/transform/logs/7")
    ).status_code == 404


async def test_mark_failed_task_success_with_downstream_and_dry_run(harness: Harness) -> None:
    await _run_with_results(harness)
    url = "/api/v2/dags/etl/dagRuns/r1/taskInstances/transform"
    dry = await harness.patch(f"{url}/dry_run", json={"new_state": "success", "include_downstream": True})
    assert dry.status_code == 200
    assert sorted(ti["task_id"] for ti in dry.json()["task_instances"]) == ["load", "transform"]
    assert await harness.logged(TaskInstanceStateSet) == []

    marked = await harness.patch(url, json={"new_state": "success", "include_downstream": True})
    assert marked.status_code == 200
    assert {ti["task_id"]: ti["state"] for ti in marked.json()["task_instances"]} == {
        "load": "success",
        "transform": "success",
    }
    assert sorted(e.task_id for e in await harness.logged(TaskInstanceStateSet)) == ["load", "transform"]
    bad = await harness.patch(url, json={"new_state": "running"})
    assert bad.status_code == 422
    assert bad.json()["detail"][0]["loc"] == ["body", "new_state"]


async def test_clear_task_instances_with_upstream_only_failed_and_dry_run(harness: Harness) -> None:
    await _run_with_results(harness)
    url = "/api/v2/dags/etl/clearTaskInstances"
    dry = await harness.post(
        url, json={"task_ids": ["transform"], "include_upstream": True, "only_failed": False}
    )
    assert sorted(ti["task_id"] for ti in dry.json()["task_instances"]) == ["extract", "transform"]
    assert await harness.logged(TaskInstancesCleared) == []

    real = await harness.post(url, json={"dry_run": False, "dag_run_id": "r1"})
    assert real.status_code == 200
    assert [ti["task_id"] for ti in real.json()["task_instances"]] == ["transform"]
    [cleared] = await harness.logged(TaskInstancesCleared)
    assert (cleared.run_id, cleared.task_ids) == ("r1", ("transform",))
    assert (await harness.post("/api/v2/dags/nope/clearTaskInstances", json={})).status_code == 404


async def test_xcom_entries_list_and_get_raw_or_deserialized(harness: Harness) -> None:
    await _run_with_results(harness)
    await harness.append(
        XComPushed(
            dag_id="etl",
            run_id="r1",
            task_id="extract",
            try_number=1,
            key="return_value",
            value='{"rows": 3}',
        )
    )
    listed = (await harness.get("/api/v2/dags/etl/dagRuns/r1/taskInstances/extract/xcomEntries")).json()
    assert [x["key"] for x in listed["xcom_entries"]] == ["return_value"]
    across = (await harness.get("/api/v2/dags/~/dagRuns/~/taskInstances/~/xcomEntries")).json()
    assert across["total_entries"] == 1

    url = "/api/v2/dags/etl/dagRuns/r1/taskInstances/extract/xcomEntries/return_value"
    assert (await harness.get(url)).json()["value"] == '{"rows": 3}'
    assert (await harness.get(url, params={"deserialize": "true"})).json()["value"] == {"rows": 3}
    assert (await harness.get(url, params={"deserialize": "true", "stringify": "true"})).json()[
        "value"
    ] == "{'rows': 3}"
    assert (await harness.get(url.replace("return_value", "nope"))).status_code == 404


async def test_mark_with_past_or_future_reaches_other_runs_by_logical_date(harness: Harness) -> None:
    await harness.add_dag("etl")
    for run_id, day in (("early", 1), ("middle", 2), ("late", 3)):
        logical_date = START.replace(day=day)
        await harness.post(
            "/api/v2/dags/etl/dagRuns", json={"dag_run_id": run_id, "logical_date": logical_date.isoformat()}
        )
        await harness.accept_run("etl", run_id, logical_date)

    async def reached(**flags: bool) -> list[str]:
        answer = await harness.patch(
            "/api/v2/dags/etl/dagRuns/middle/taskInstances/extract/dry_run",
            json={"new_state": "success", **flags},
        )
        return sorted(ti["dag_run_id"] for ti in answer.json()["task_instances"])

    assert await reached() == ["middle"]
    assert await reached(include_past=True) == ["early", "middle"]
    assert await reached(include_future=True) == ["late", "middle"]
    assert await reached(include_past=True, include_future=True) == ["early", "late", "middle"]


async def test_notes_on_a_task_instance_and_its_run_are_written_and_cleared(harness: Harness) -> None:
    await _run_with_results(harness)
    ti_url = "/api/v2/dags/etl/dagRuns/r1/taskInstances/transform"
    noted = await harness.patch(ti_url, json={"note": "slow upstream today"})
    assert noted.status_code == 200, noted.text
    assert [(ti["task_id"], ti["note"]) for ti in noted.json()["task_instances"]] == [
        ("transform", "slow upstream today")
    ]
    assert (await harness.get(ti_url)).json()["note"] == "slow upstream today"
    [event] = await harness.logged(TaskInstanceNoteSet)
    assert (event.task_id, event.note) == ("transform", "slow upstream today")
    assert await harness.logged(TaskInstanceStateSet) == []

    run_url = "/api/v2/dags/etl/dagRuns/r1"
    assert (await harness.patch(run_url, json={"note": "rerun after fix"})).json()[
        "note"
    ] == "rerun after fix"
    cleared = await harness.patch(run_url, json={"note": None}, params={"update_mask": ["note"]})
    assert cleared.json()["note"] is None
    assert [e.note for e in await harness.logged(DagRunNoteSet)] == ["rerun after fix", None]

    refused = await harness.patch(ti_url, json={"note": "x"}, params={"update_mask": ["state"]})
    assert refused.status_code == 400
    assert (await harness.patch(ti_url, json={})).status_code == 400
