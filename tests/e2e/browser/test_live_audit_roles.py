"""A run's progress reaches an open page through the live stream, with no reload; an admin reads
their login in the access log and an SLA miss the scheduler recorded, and manages a custom role."""

from __future__ import annotations

from pathlib import Path

from tests.e2e.browser.conftest import Scenario
from tests.e2e.standalone import Standalone

LIVE_TOUR = """
from datetime import datetime

from airflow import DAG
from airflow.operators.bash import BashOperator

with DAG('live_tour', start_date=datetime(2024, 1, 1), schedule=None):
    BashOperator(task_id='hello', bash_command='echo hello; sleep 2') >> BashOperator(
        task_id='bye', bash_command='echo bye'
    )
"""

# The latest daily interval ended long before the run starts: its 1-second SLA is missed at once.
SLA_WATCH = """
from datetime import datetime, timedelta

from airflow import DAG
from airflow.operators.bash import BashOperator

with DAG('sla_watch', start_date=datetime(2024, 1, 1), schedule='@daily', catchup=False):
    BashOperator(task_id='slow', bash_command='sleep 20', sla=timedelta(seconds=1))
"""

VIEWER_PASSWORD = "viewer-pa55-word"


def test_live_run_access_log_sla_misses_and_custom_roles(
    ui_standalone: Standalone, scenario: Scenario, screenshots: Path
) -> None:
    ui_standalone.upload_sources({"live_tour.py": LIVE_TOUR, "sla_watch.py": SLA_WATCH})
    ui_standalone.wait_for_dags(["live_tour", "sla_watch"])
    with ui_standalone.client() as client:
        client.patch("/api/v2/dags/sla_watch", json={"is_paused": False}).raise_for_status()
        client.post(
            "/api/couture/security/users",
            json={"username": "vera", "password": VIEWER_PASSWORD, "roles": ["Viewer"]},
        ).raise_for_status()

    seen = scenario(
        "live_audit_roles",
        COUTURE_DAG_ID="live_tour",
        COUTURE_SLA_DAG="sla_watch",
        COUTURE_VIEWER="vera",
        COUTURE_VIEWER_PASSWORD=VIEWER_PASSWORD,
    )

    # While the stream is up, views poll only every 30 s: a run shown and finished well within that
    # reached the page through the stream.
    assert seen["liveStillOn"]
    assert seen["runStates"][-1] == "success"
    assert seen["runStates"][0] != "success", "the run was first seen before it finished"
    assert seen["rowShownAfterMs"] < 10_000
    assert seen["finishedShownAfterMs"] < 25_000, seen
    assert seen["slaTask"] == "slow"
    assert seen["auditTabs"] == ["Logins and changes", "DAG events"]
    assert seen["loginRow"][1:4] == ["superadmin", "login", "success"]
    assert seen["builtInEditButtons"] == 0
    assert seen["teamAccess"] == "read: live_tour · edit: none"
    assert seen["teamAccessEdited"] == "read: live_tour · edit: live_tour"
    assert "team-live" in seen["rolesAfter"] and "short-lived" not in seen["rolesAfter"]
    assert seen["viewerTabs"] == 0
    assert not seen["viewerSeesAccessLog"]
    assert "SLA Misses" in seen["viewerBrowse"]
    assert seen["consoleErrors"] == []
    assert seen["failedRequests"] == []

    with ui_standalone.client() as client:
        role = client.get("/api/couture/security/roles/team-live").json()
        misses = client.get("/api/couture/slaMisses", params={"dag_id": "sla_watch"}).json()
    pairs = {(a["action"]["name"], a["resource"]["name"]) for a in role["actions"]}
    assert {
        ("can_dag_read", "live_tour"),
        ("can_dag_edit", "live_tour"),
        ("can_list", "DagModelView"),
    } <= pairs
    assert ("can_dag_read", "all_dags") not in pairs
    assert [m["task_id"] for m in misses["sla_misses"]] == ["slow"]
    assert {p.name for p in screenshots.iterdir()} >= {
        "live-dag-runs.png",
        "sla-misses.png",
        "audit-log.png",
        "role-form.png",
        "roles-custom.png",
    }
