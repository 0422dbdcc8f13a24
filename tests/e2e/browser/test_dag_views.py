"""The DAG views a user reads after a run: a try's rendered template (secrets masked, every try),
every try in the Gantt chart, and zooming from a master DAG into the sub-DAG run it triggered."""

from __future__ import annotations

from pathlib import Path

from tests.e2e.browser.conftest import Scenario
from tests.e2e.standalone import Standalone
from tests.e2e.test_dag_views_api import SECRET, TEMPLATED


def test_rendered_template_gantt_tries_and_zoom_into_a_sub_dag(
    ui_standalone: Standalone, scenario: Scenario, screenshots: Path
) -> None:
    ui_standalone.upload_sources({"templated.py": TEMPLATED})
    ui_standalone.upload(["seed_master_dag.py", "seed_schema_generation.py"])
    ui_standalone.wait_for_dags(["templated", "MasterDag", "ExampleSchemaGeneration"])
    with ui_standalone.client() as client:
        client.post("/api/v2/variables", json={"key": "api_key", "value": SECRET}).raise_for_status()
        client.patch("/api/v2/dags/ExampleSchemaGeneration", json={"is_paused": False}).raise_for_status()
    templated_run = ui_standalone.trigger("templated")
    master_run = ui_standalone.trigger("MasterDag")
    assert ui_standalone.wait_for_run("templated", templated_run)["state"] == "success"
    assert ui_standalone.wait_for_run("MasterDag", master_run)["state"] == "success"

    seen = scenario("dag_views", COUTURE_TEMPLATED_RUN=templated_run, COUTURE_MASTER_RUN=master_run)

    latest, first = seen["renderedLatest"], seen["renderedFirst"]
    assert latest["bash_command"].startswith("echo try 2 on ") and "key=***;" in latest["bash_command"]
    assert first["bash_command"].startswith("echo try 1 on ")
    assert '"API_PASSWORD": "***"' in latest["env"]
    assert SECRET not in repr(seen)
    assert seen["ganttBars"] == [[1, "failed"], [2, "success"]]

    with ui_standalone.client() as client:
        ti = f"/api/couture/dags/MasterDag/dagRuns/{master_run}/taskInstances/SchemaGeneration"
        [child] = client.get(f"{ti}/triggeredDagRuns").json()["dag_runs"]
    assert seen["zoomControls"] == 1
    assert seen["preview"].startswith("Zoom into DAG ExampleSchemaGeneration")
    assert child["dag_run_id"] in seen["preview"]
    assert seen["childRun"] == child["dag_run_id"] == seen["childRunSelected"]
    assert seen["childStates"] and set(seen["childStates"].values()) == {"success"}
    sep = "\N{SINGLE RIGHT-POINTING ANGLE QUOTATION MARK}"
    assert seen["breadcrumb"].split() == [
        "MasterDag",
        sep,
        "SchemaGeneration",
        sep,
        "ExampleSchemaGeneration",
    ]
    assert (seen["backRun"], seen["backTask"]) == (master_run, "SchemaGeneration")
    assert seen["breadcrumbAfterBack"] == 0
    assert seen["consoleErrors"] == []
    assert seen["failedRequests"] == []
    assert {p.name for p in screenshots.iterdir()} >= {
        "rendered-template.png",
        "gantt-tries.png",
        "master-graph.png",
        "zoom-preview.png",
        "zoomed-child.png",
        "zoomed-back.png",
    }
