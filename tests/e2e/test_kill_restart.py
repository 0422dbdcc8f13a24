"""kill -9 the whole product mid-run, start it again: the run completes from the event log, no try's
result is applied twice, and the read models equal a fresh rebuild from offset 0."""

from __future__ import annotations

import sqlite3
import subprocess
import time
from pathlib import Path
from typing import Any

from tests.e2e.standalone import COUTURE, Standalone

CHAIN = """
from datetime import datetime, timedelta
from airflow import DAG
from airflow.operators.bash import BashOperator
from airflow.operators.python import PythonOperator

def count(ti, **_):
    return ti.xcom_pull(task_ids="step_2") + "!"

with DAG("kill_restart", start_date=datetime(2024, 1, 1), schedule=None,
         default_args={"retries": 1, "retry_delay": timedelta(seconds=1)}) as dag:
    steps = [
        BashOperator(task_id=f"step_{i}", bash_command=f"sleep 0.6; echo step {i}")
        for i in range(1, 7)
    ]
    for upstream, downstream in zip(steps, steps[1:]):
        upstream >> downstream
    steps[-1] >> PythonOperator(task_id="count", python_callable=count)
"""


def dump_readmodels(path: Path) -> dict[str, list[tuple[Any, ...]]]:
    with sqlite3.connect(path) as db:
        tables = [
            name
            for (name,) in db.execute("SELECT name FROM sqlite_master WHERE type = 'table'")
            if not name.startswith("sqlite_")
        ]
        return {
            table: sorted(db.execute(f'SELECT * FROM "{table}"').fetchall(), key=repr) for table in tables
        }


def test_killed_mid_run_the_run_completes_after_restart(standalone: Standalone) -> None:
    standalone.upload_sources({"kill_restart.py": CHAIN})
    standalone.wait_for_dags(["kill_restart"])
    run = standalone.trigger("kill_restart")
    deadline = time.monotonic() + 60
    while standalone.task_states("kill_restart", run).get("step_3", (None, 0))[0] != "running":
        assert time.monotonic() < deadline, "step_3 never started"
        time.sleep(0.05)

    standalone.kill9()
    standalone.start()

    assert standalone.wait_for_run("kill_restart", run, timeout=120)["state"] == "success"
    states = standalone.task_states("kill_restart", run)
    assert {task: state for task, (state, _) in states.items()} == {
        **{f"step_{i}": "success" for i in range(1, 7)},
        "count": "success",
    }
    # The try that was running when the process died is failed by heartbeat timeout and retried.
    assert states["step_3"][1] == 2
    with standalone.client() as client:
        tries = client.get(f"/api/v2/dags/kill_restart/dagRuns/{run}/taskInstances/step_3/tries").json()
        assert sorted(t["try_number"] for t in tries["task_instances"]) == [1, 2]
        xcom = client.get(
            f"/api/v2/dags/kill_restart/dagRuns/{run}/taskInstances/count/xcomEntries/return_value",
            params={"deserialize": True},
        ).json()
        assert xcom["value"] == "step 2!"

    standalone.stop()
    readmodels = standalone.home / "data" / "readmodels.db"
    before = dump_readmodels(readmodels)
    subprocess.run([str(COUTURE), "projections", "rebuild"], env=standalone.env, check=True, timeout=120)
    assert dump_readmodels(readmodels) == before
