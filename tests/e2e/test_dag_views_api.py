"""What the DAG views read, on a real ``couture standalone``: a try's rendered template (secrets
masked, every try), and a master DAG's DagOperator linked to the child run it triggered."""

from __future__ import annotations

from urllib.parse import quote

from tests.e2e.standalone import Standalone

TEMPLATED = """
from datetime import datetime, timedelta

from airflow import DAG
from airflow.operators.bash import BashOperator

with DAG("templated", start_date=datetime(2024, 1, 1), schedule=None) as dag:
    BashOperator(
        task_id="call",
        # The first try fails, so two tries each render their own try number.
        bash_command="echo try {{ try_number }} on {{ ds }} key={{ var.value.api_key }}; "
        "test {{ try_number }} -gt 1",
        env={"API_PASSWORD": "{{ var.value.api_key }}", "DAY": "{{ ds_nodash }}"},
        retries=1,
        retry_delay=timedelta(seconds=0),
    )
"""
SECRET = "ak-93f0c2d1e5"


def test_each_try_shows_its_rendered_bash_command_with_the_secret_masked(standalone: Standalone) -> None:
    standalone.upload_sources({"templated.py": TEMPLATED})
    standalone.wait_for_dags(["templated"])
    with standalone.client() as client:
        client.post("/api/v2/variables", json={"key": "api_key", "value": SECRET}).raise_for_status()
    run = standalone.trigger("templated")
    assert standalone.wait_for_run("templated", run)["state"] == "success"

    base = f"/api/v2/dags/templated/dagRuns/{run}/taskInstances/call"
    with standalone.client() as client:
        ti = client.get(base).json()
        tries = client.get(f"{base}/tries").json()["task_instances"]
        second = client.get(f"{base}/tries/2").json()
    day = ti["logical_date"][:10]
    assert ti["try_number"] == 2
    assert ti["rendered_fields"]["bash_command"].startswith(f"echo try 2 on {day} key=***;")
    assert ti["rendered_fields"]["env"] == {"API_PASSWORD": "***", "DAY": day.replace("-", "")}
    assert [(t["try_number"], t["rendered_fields"]["bash_command"][:9]) for t in tries] == [
        (1, "echo try "),
        (2, "echo try "),
    ]
    assert "try 1 on" in tries[0]["rendered_fields"]["bash_command"]
    assert second["rendered_fields"] == ti["rendered_fields"]
    assert SECRET not in repr((ti, tries))


def test_a_dag_operator_task_names_its_target_and_links_to_the_run_it_triggered(
    standalone: Standalone,
) -> None:
    standalone.upload(["seed_master_dag.py", "seed_schema_generation.py"])
    standalone.wait_for_dags(["MasterDag", "ExampleSchemaGeneration"])
    with standalone.client() as client:
        client.patch("/api/v2/dags/ExampleSchemaGeneration", json={"is_paused": False}).raise_for_status()
        task = client.get("/api/v2/dags/MasterDag/tasks/SchemaGeneration").json()
        other = client.get("/api/v2/dags/ExampleSchemaGeneration/tasks").json()["tasks"]
    assert task["couture_run_dag_id"] == "ExampleSchemaGeneration"
    assert {t["couture_run_dag_id"] for t in other} == {None}

    run = standalone.trigger("MasterDag")
    assert standalone.wait_for_run("MasterDag", run)["state"] == "success"
    ti = f"/dags/MasterDag/dagRuns/{run}/taskInstances/SchemaGeneration"
    url = f"/api/couture{ti}/triggeredDagRuns"
    with standalone.client() as client:
        linked = client.get(url).json()
        links = client.get(f"/api/v2{ti}/links").json()
        child_runs = client.get("/api/v2/dags/ExampleSchemaGeneration/dagRuns").json()["dag_runs"]
        missing = client.get(url.replace("MasterDag", "NoSuchDag", 1))
    assert linked["total_entries"] == 1
    [child] = linked["dag_runs"]
    assert (child["dag_id"], child["triggered_by"], child["conf"]) == (
        "ExampleSchemaGeneration",
        "operator",
        {"message": "Hii there!!"},
    )
    assert [r["dag_run_id"] for r in child_runs] == [child["dag_run_id"]]
    # Airflow's way to the same run: the task's "Triggered DAG" extra link, to the UI's graph of it.
    assert task["extra_links"] == ["Triggered DAG"]
    assert links == {
        "extra_links": {
            "Triggered DAG": f"/dags/ExampleSchemaGeneration/graph?run={quote(child['dag_run_id'], safe='')}"
        },
        "total_entries": 1,
    }
    assert standalone.wait_for_run("ExampleSchemaGeneration", child["dag_run_id"])["state"] == "success"
    with standalone.client() as client:
        plain = (
            f"/api/v2/dags/ExampleSchemaGeneration/dagRuns/{child['dag_run_id']}/taskInstances/print_message"
        )
        assert client.get(f"{plain}/links").json() == {"extra_links": {}, "total_entries": 0}
    assert missing.status_code == 404
