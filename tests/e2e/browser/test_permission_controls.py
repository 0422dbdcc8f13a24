"""Menus and controls follow the user's effective permissions, not their role's name: a custom role
reading one DAG (and Variables) sees exactly what it may use; one editing one DAG may trigger that
DAG only; the built-in Viewer still sees no trigger button."""

from __future__ import annotations

from pathlib import Path

from tests.e2e.browser.conftest import Scenario
from tests.e2e.standalone import Standalone
from tests.integration.test_rbac import role_body

DAG_FILE = """
from datetime import datetime

from airflow import DAG
from airflow.operators.bash import BashOperator

with DAG('{dag_id}', start_date=datetime(2024, 1, 1), schedule=None):
    BashOperator(task_id='hello', bash_command='echo hello')
"""

PASSWORD = "perm-pa55-word"
#: What the DAGs list, a DAG's grid and its task panel read.
DAG_READING = (
    ("can_list", "DagModelView"),
    ("can_show", "DagModelView"),
    ("can_dag_details", "Airflow"),
    ("can_dag_stats", "Airflow"),
    ("can_task", "Airflow"),
    ("can_list", "DagRunModelView"),
    ("can_show", "DagRunModelView"),
    ("can_list", "TaskInstanceModelView"),
    ("can_show", "TaskInstanceModelView"),
    ("can_tries", "Airflow"),
    ("can_log", "Airflow"),
)


def test_a_custom_role_sees_exactly_the_menus_and_controls_it_may_use(
    ui_standalone: Standalone, scenario: Scenario, screenshots: Path
) -> None:
    ui_standalone.upload_sources({f"{d}.py": DAG_FILE.format(dag_id=d) for d in ("perm_a", "perm_b")})
    ui_standalone.wait_for_dags(["perm_a", "perm_b"])
    run_id = ui_standalone.trigger("perm_a")
    ui_standalone.wait_for_run("perm_a", run_id)
    with ui_standalone.client() as client:
        client.post("/api/v2/variables", json={"key": "region", "value": "eu"}).raise_for_status()
        # Unpaused, so the DAGs list shows it without "show paused": a row missing is one not readable.
        client.patch("/api/v2/dags/perm_b", json={"is_paused": False}).raise_for_status()
        reader = role_body(
            "dag-a-reader", *DAG_READING, ("can_dag_read", "perm_a"), ("can_list", "VariableModelView")
        )
        operator = role_body(
            "dag-b-operator",
            *DAG_READING,
            ("can_trigger", "Airflow"),
            ("can_paused", "Airflow"),
            ("can_dag_read", "perm_a"),
            ("can_dag_read", "perm_b"),
            ("can_dag_edit", "perm_b"),
        )
        for role in (reader, operator):
            client.post("/api/couture/security/roles", json=role).raise_for_status()
        for username, roles in (
            ("cora", ["dag-a-reader"]),
            ("otto", ["dag-b-operator"]),
            ("vera", ["Viewer"]),
        ):
            client.post(
                "/api/couture/security/users",
                json={"username": username, "password": PASSWORD, "roles": roles},
            ).raise_for_status()

    seen = scenario(
        "permission_controls",
        COUTURE_RUN_ID=run_id,
        COUTURE_PASSWORD=PASSWORD,
    )

    reader_seen = seen["reader"]
    assert reader_seen["menus"] == {"Browse": ["DAG Runs", "Task Instances"], "Admin": ["Variables"]}
    assert reader_seen["dags"] == ["perm_a"]
    assert reader_seen["listTriggers"] == 0
    assert reader_seen["listPauseDisabled"] == [True]
    assert reader_seen["dagTrigger"] == 0 and reader_seen["dagPauseDisabled"] is True
    assert reader_seen["panelButtons"] == []
    # No can_code or can_xcom: no Code tab on the DAG, no XCom tab on the task instance.
    assert reader_seen["dagTabs"] == ["Grid", "Graph", "Gantt", "Task Duration", "Details"]
    assert reader_seen["panelTabs"] == ["Details", "Log", "Rendered"]
    assert reader_seen["variableRows"] == ["region"]
    assert reader_seen["variableButtons"] == []
    assert reader_seen["usersPage"] == "Not allowed"
    assert seen["grantedWithoutReload"]

    operator_seen = seen["operator"]
    assert operator_seen["menus"] == {"Browse": ["DAG Runs", "Task Instances"]}
    assert operator_seen["dags"] == ["perm_a", "perm_b"]
    assert operator_seen["triggerFor"] == ["perm_b"]
    assert operator_seen["listPauseDisabled"] == [True, False]

    viewer_seen = seen["viewer"]
    assert list(viewer_seen["menus"]) == ["Browse"]
    assert viewer_seen["dags"] == ["perm_a", "perm_b"]
    assert viewer_seen["triggerFor"] == []
    assert viewer_seen["listPauseDisabled"] == [True, True]

    assert seen["consoleErrors"] == []
    # The UI offered nothing the server then refused.
    assert [r for r in seen["failedRequests"] if r.endswith(" 403")] == [], seen["failedRequests"]
    assert {p.name for p in screenshots.iterdir()} >= {"custom-role-dags.png", "custom-role-variables.png"}
