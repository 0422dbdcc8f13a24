"""A user operates a DAG from the browser: log in, turn it on, trigger it with a conf, watch the
graph go green live, read a task's log, clear the task and see it run again."""

from __future__ import annotations

from pathlib import Path

from tests.e2e.browser.conftest import Scenario
from tests.e2e.standalone import Standalone

UI_TOUR = """
from datetime import datetime

from airflow import DAG
from airflow.operators.bash import BashOperator
from airflow.operators.python import PythonOperator


def greet(dag_run, **_):
    print(f"greeting is {dag_run.conf['greeting']}")
    return dag_run.conf['greeting']


with DAG('ui_tour', start_date=datetime(2024, 1, 1), schedule=None, tags=['ui'],
         default_args={'owner': 'ui-team'}):
    warm_up = BashOperator(task_id='warm_up', bash_command='echo warming up; sleep 4; echo warmed up')
    say = PythonOperator(task_id='greet', python_callable=greet)
    done = BashOperator(task_id='done', bash_command='echo done')
    warm_up >> say >> done
"""

TASKS = {"warm_up", "greet", "done"}


def test_user_turns_on_triggers_watches_reads_log_and_clears(
    ui_standalone: Standalone, scenario: Scenario, screenshots: Path
) -> None:
    ui_standalone.upload_sources({"ui_tour.py": UI_TOUR})
    ui_standalone.wait_for_dags(["ui_tour"])

    seen = scenario(
        "operate_dag",
        COUTURE_DAG_ID="ui_tour",
        COUTURE_LOG_TASK="greet",
        COUTURE_SLOW_TASK="warm_up",
        COUTURE_SLOW_FIRST_LINE="warming up",
        COUTURE_SLOW_LAST_LINE="warmed up",
        COUTURE_EXPECTED_LOG="greeting is hello from the browser",
        COUTURE_CONF='{"greeting": "hello from the browser"}',
    )

    assert seen["hiddenWhilePaused"], "a paused DAG is listed before 'Show Paused DAGs' is on"
    assert seen["triggerDisabledOnBadConf"]
    assert seen["arrayConfError"] == "conf must be a JSON object ({...}), not an array"
    # The page was never reloaded, so a running task seen before the all-green graph is live polling.
    assert seen["statesSeen"][0]["warm_up"] != "success"
    assert seen["finalStates"] == dict.fromkeys(TASKS, "success")
    assert seen["liveWhileRunning"]
    assert "warmed up" not in seen["slowLogWhileRunning"].splitlines()
    tailed = seen["slowLogAfter"].splitlines()
    assert "warmed up" in tailed
    assert tailed.count("warming up") == 1, "a tailed log repeats no line"
    assert seen["liveAfterFinish"] == 0
    assert "greeting is hello from the browser" in seen["logText"]
    assert seen["afterClearStates"] == dict.fromkeys(TASKS, "success")
    assert seen["markedFailed"] == "failed"
    assert seen["consoleErrors"] == []
    assert seen["failedRequests"] == []

    with ui_standalone.client() as client:
        assert client.get("/api/v2/dags/ui_tour").json()["is_paused"] is False
        run = client.get(f"/api/v2/dags/ui_tour/dagRuns/{seen['runId']}").json()
    assert run["conf"] == {"greeting": "hello from the browser"}
    # Clear includes downstream by default: greet and done ran twice, warm_up once.
    assert ui_standalone.task_states("ui_tour", seen["runId"]) == {
        "warm_up": ("success", 1),
        "greet": ("success", 2),
        "done": ("success", 2),
    }
    assert {p.name for p in screenshots.iterdir()} >= {
        "dags-list.png",
        "graph.png",
        "log.png",
        "grid.png",
        "gantt.png",
        "duration.png",
        "code.png",
        "details.png",
    }
