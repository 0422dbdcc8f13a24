"""A Viewer sees DAGs, runs and logs but no control that changes them; times follow the chosen
timezone and the theme can be dark."""

from __future__ import annotations

import subprocess
from datetime import datetime
from zoneinfo import ZoneInfo

from tests.e2e.browser.conftest import Scenario
from tests.e2e.standalone import COUTURE, Standalone

TIMEZONE = "Asia/Kolkata"


def _create_user(server: Standalone, username: str, role: str, password: str) -> None:
    subprocess.run(
        [str(COUTURE), "users", "create", "-u", username, "-r", role, "-p", password],
        env=server.env,
        check=True,
        capture_output=True,
    )


def test_viewer_has_no_trigger_or_task_actions_and_sees_times_in_their_timezone(
    ui_standalone: Standalone, scenario: Scenario
) -> None:
    ui_standalone.upload(["xcom_push_pull.py"])
    ui_standalone.wait_for_dags(["xcom_push_pull"])
    run_id = ui_standalone.trigger("xcom_push_pull")
    run = ui_standalone.wait_for_run("xcom_push_pull", run_id)
    _create_user(ui_standalone, "vera", "Viewer", "viewer-pass-1")

    seen = scenario(
        "viewer_preferences",
        COUTURE_USERNAME="vera",
        COUTURE_PASSWORD="viewer-pass-1",
        COUTURE_DAG_ID="xcom_push_pull",
        COUTURE_RUN_ID=run_id,
        COUTURE_TIMEZONE=TIMEZONE,
    )

    assert seen["menus"] == ["Browse"]
    assert seen["triggerButtonsOnList"] == 0
    assert seen["triggerButtonsOnDag"] == 0
    assert seen["pauseSwitchEnabled"] is False
    assert seen["panelActions"] == 0
    assert ["trigger", "superadmin"] in seen["auditEvents"]
    assert "Not allowed" in seen["adminPageText"]
    assert seen["theme"] == "dark"
    started = datetime.fromisoformat(run["start_date"]).astimezone(ZoneInfo(TIMEZONE))
    assert seen["startedIso"] == run["start_date"]
    assert seen["startedShown"] == started.strftime("%Y-%m-%d %H:%M:%S")
    assert seen["signedOutAfterReload"]
    assert seen["consoleErrors"] == []
    assert seen["failedRequests"] == []
