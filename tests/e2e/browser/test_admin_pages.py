"""An admin manages variables, connections, pools, DAG files, LDAP settings and users from the
browser; the user they add signs in with their role's menus and resets their password."""

from __future__ import annotations

from pathlib import Path

from tests.e2e.browser.conftest import Scenario
from tests.e2e.standalone import FIXTURE_DAGS, Standalone


def test_admin_manages_variables_connections_pools_dag_files_and_users(
    ui_standalone: Standalone, scenario: Scenario, tmp_path: Path
) -> None:
    upload = tmp_path / "branching.py"
    upload.write_text((FIXTURE_DAGS / "branching.py").read_text())

    seen = scenario("admin_pages", COUTURE_UPLOAD_FILE=str(upload))

    assert seen["importReport"] == "1 created, 1 updated."
    assert dict(seen["variables"]) == {"api_key": "***", "batch_size": "500", "region": "us-east-1"}
    assert seen["badPortError"] == "port: must be a whole number between 0 and 65535"
    assert seen["passwordShownOnEdit"] == ""
    assert not seen["pageShowsPassword"]
    assert seen["uploadMessage"] == "Uploaded 1 file."
    assert "+# reviewed in the browser" in seen["editDiff"]
    assert '+with DAG("from_browser"' in seen["newDiff"]
    assert '+    EmptyOperator(task_id="hello")' in seen["newDiff"]
    assert "not available in this version" in seen["notBuiltText"]
    assert seen["badMappingError"] == 'AUTH_ROLES_MAPPING: expected {"group DN": ["Role", ...]}'
    assert seen["bindPasswordPlaceholder"] == "Set: leave empty to keep it"
    assert not seen["pageShowsBindPassword"]
    assert seen["roles"] == ["Admin", "Op", "User", "Viewer", "Public", "Developer"]
    assert seen["opMenus"] == ["Browse", "Admin"]
    assert seen["consoleErrors"] == []
    assert seen["failedRequests"] == []

    with ui_standalone.client() as client:
        warehouse = client.get("/api/v2/connections/warehouse").json()
        assert warehouse["password"] is None
        assert (warehouse["conn_type"], warehouse["host"]) == ("postgres", "db2.internal")
        assert warehouse["port"] == 5432
        assert client.get("/api/v2/pools/etl").json()["slots"] == 4
        source = client.get("/api/couture/dags/files/branching.py").json()["content"]
        assert source.endswith("# reviewed in the browser\n")
        ldap = client.get("/api/couture/security/ldap").json()
        assert (ldap["auth_type"], ldap["server"], ldap["search"]) == (
            "AUTH_DB",
            "ldap://ldap.example.org:389",
            "dc=example,dc=org",
        )
        assert ldap["roles_mapping"] == {"cn=ops,dc=example,dc=org": ["Op"]}
        assert ldap["bind_password_set"] is True
    ui_standalone.wait_for_dags(["branching", "from_browser"])
