"""Every endpoint is authorized by the user's current roles: allowed for Admin, refused where due."""

from __future__ import annotations

import re

import httpx

from couture_auth.passwords import hash_password
from couture_common.events import UserCreated
from couture_gateway.api.access import RULES, SIGNED_IN

from .test_gateway import STREAMS, Harness, endpoints, harness, signing_key_pem

__all__ = ["harness", "signing_key_pem"]

OPEN = {"get_health", "get_version"}
_PASSWORD = "pa55-word-for-tests"
_HASH = hash_password(_PASSWORD)
#: What a Viewer may call: reads of DAGs, runs, task instances, logs; not the Admin menu.
VIEWER_ALLOWED = {
    "get_dags",
    "get_dag",
    "get_dag_details",
    "get_dag_tags",
    "get_dag_versions",
    "get_dag_version",
    "get_dag_source",
    "get_dag_stats",
    "get_tasks",
    "get_task",
    "get_dag_runs",
    "get_list_dag_runs_batch",
    "get_dag_run",
    "wait_dag_run_until_finished",
    "get_task_instances",
    "get_task_instances_batch",
    "get_task_instance",
    "get_task_instance_tries",
    "get_task_instance_try_details",
    "get_triggered_dag_runs",
    "get_extra_links",
    "get_log",
    "get_xcom_entries",
    "get_xcom_entry",
    "get_import_errors",
    "get_import_error",
    "get_event_logs",
    "get_event_log",
    "get_sla_misses",
    "get_me",
    "change_my_password",
    "logout",
}


async def sign_in(harness: Harness, username: str, *roles: str) -> dict[str, str]:
    await harness.append(UserCreated(username=username, password_hash=_HASH, roles=roles))
    answer = await harness.client.post("/auth/token", json={"username": username, "password": _PASSWORD})
    assert answer.status_code == 201, answer.text
    return {"Authorization": f"Bearer {answer.json()['access_token']}"}


def role_body(name: str, *pairs: tuple[str, str]) -> dict[str, object]:
    """The body of ``POST /api/couture/security/roles`` for a role granting ``(action, resource)`` pairs."""
    return {"name": name, "actions": [{"action": {"name": a}, "resource": {"name": r}} for a, r in pairs]}


async def call(harness: Harness, method: str, path: str, headers: dict[str, str]) -> httpx.Response:
    url = re.sub(r"\{[^}]+\}", "1", path)
    body: dict[str, object] | None = {} if method in ("POST", "PATCH", "PUT") else None
    return await harness.client.request(method, url, headers=headers, json=body)


def api_routes(harness: Harness) -> list[tuple[str, str, str]]:
    return sorted(
        (e.name, method, e.path)
        for e in endpoints(harness.app)
        if e.path.startswith("/api/") and e.name not in OPEN | STREAMS
        for method in e.methods
    )


async def test_every_api_endpoint_has_a_permission_rule(harness: Harness) -> None:
    missing = {name for name, _, _ in api_routes(harness)} - set(RULES)
    assert not missing, f"endpoints without a rule in couture_gateway.api.access.RULES: {missing}"


async def test_walking_every_endpoint_admin_passes_public_and_viewer_are_refused_where_due(
    harness: Harness,
) -> None:
    public = await sign_in(harness, "pat", "Public")
    viewer = await sign_in(harness, "vic", "Viewer")
    for name, method, path in api_routes(harness):
        if name in ("change_my_password", "logout"):
            continue
        admin_answer = await call(harness, method, path, harness.auth)
        assert admin_answer.status_code != 403, (name, admin_answer.text)
        public_answer = await call(harness, method, path, public)
        if RULES[name] is SIGNED_IN:
            assert public_answer.status_code != 403, name
        else:
            assert public_answer.status_code == 403, (name, public_answer.text)
            assert public_answer.json()["detail"].startswith(f"Forbidden: `{name}` needs")
        viewer_answer = await call(harness, method, path, viewer)
        assert (viewer_answer.status_code != 403) == (name in VIEWER_ALLOWED), (name, viewer_answer.text)


async def test_a_viewer_cannot_trigger_pause_or_set_variables(harness: Harness) -> None:
    await harness.add_dag("etl")
    viewer = await sign_in(harness, "vic", "Viewer")
    trigger = await harness.client.post(
        "/api/v2/dags/etl/dagRuns", headers=viewer, json={"logical_date": None}
    )
    assert trigger.status_code == 403
    assert trigger.json() == {
        "detail": "Forbidden: `trigger_dag_run` needs the permission can_trigger on Airflow"
    }
    pause = await harness.client.patch("/api/v2/dags/etl", headers=viewer, json={"is_paused": True})
    assert pause.status_code == 403
    variable = await harness.client.post("/api/v2/variables", headers=viewer, json={"key": "k", "value": "v"})
    assert variable.status_code == 403
    assert (await harness.client.get("/api/v2/dags/etl", headers=viewer)).status_code == 200


async def test_a_user_cannot_edit_roles_or_variables_but_op_manages_variables_connections_pools(
    harness: Harness,
) -> None:
    user = await sign_in(harness, "usa", "User")
    role = await harness.client.post("/api/couture/security/roles", headers=user, json={"name": "x"})
    assert role.status_code == 403
    assert (await harness.client.get("/api/couture/security/users", headers=user)).status_code == 403
    variable = {"key": "region", "value": "eu"}
    assert (await harness.client.post("/api/v2/variables", headers=user, json=variable)).status_code == 403

    op = await sign_in(harness, "opal", "Op")
    assert (await harness.client.post("/api/v2/variables", headers=op, json=variable)).status_code == 201
    connection = {"connection_id": "db", "conn_type": "postgres"}
    assert (await harness.client.post("/api/v2/connections", headers=op, json=connection)).status_code == 201
    pool = {"name": "small", "slots": 2}
    assert (await harness.client.post("/api/v2/pools", headers=op, json=pool)).status_code == 201
    assert (await harness.client.get("/api/couture/security/roles", headers=op)).status_code == 403


async def test_a_role_change_applies_to_a_token_already_issued(harness: Harness) -> None:
    headers = await sign_in(harness, "vic", "Viewer")
    variable = {"key": "region", "value": "eu"}
    assert (await harness.client.post("/api/v2/variables", headers=headers, json=variable)).status_code == 403
    edited = await harness.patch("/api/couture/security/users/vic", json={"roles": ["Op"]})
    assert edited.status_code == 200, edited.text
    assert (await harness.client.post("/api/v2/variables", headers=headers, json=variable)).status_code == 201

    deactivated = await harness.delete("/api/couture/security/users/vic")
    assert deactivated.status_code == 204
    refused = await harness.client.get("/api/v2/dags", headers=headers)
    assert refused.status_code == 401
    assert refused.json() == {"detail": "User `vic` no longer exists or is deactivated"}
    login = {"username": "vic", "password": _PASSWORD}
    assert (await harness.client.post("/auth/token", json=login)).status_code == 401


async def test_a_custom_role_sees_only_its_dags_and_acts_on_the_dag_it_was_checked_for(
    harness: Harness,
) -> None:
    for dag_id in ("etl", "payroll", "report"):
        await harness.add_dag(dag_id)
    role = role_body(
        "team-a",
        ("can_list", "DagModelView"),
        ("can_show", "DagModelView"),
        ("can_list", "DagRunModelView"),
        ("can_trigger", "Airflow"),
        ("can_list", "LogModelView"),
        ("can_show", "LogModelView"),
        ("can_dag_read", "etl"),
        ("can_dag_read", "report"),
        ("can_dag_edit", "report"),
    )
    created = await harness.post("/api/couture/security/roles", json=role)
    assert created.status_code == 201, created.text
    team = await sign_in(harness, "tess", "team-a")

    dags = await harness.client.get("/api/v2/dags", headers=team)
    assert [d["dag_id"] for d in dags.json()["dags"]] == ["etl", "report"]
    assert (await harness.client.get("/api/v2/dags/payroll", headers=team)).status_code == 403
    runs = await harness.client.get("/api/v2/dags/~/dagRuns", headers=team)
    assert runs.status_code == 200
    batch = await harness.client.post(
        "/api/v2/dags/~/dagRuns/list", headers=team, json={"dag_ids": ["payroll"]}
    )
    assert batch.status_code == 403
    assert batch.json() == {
        "detail": "Forbidden: `get_list_dag_runs_batch` needs can_dag_read on DAG `payroll`"
    }

    assert (await harness.client.post("/api/v2/dags/etl/dagRuns", headers=team, json={})).status_code == 403
    mismatch = await harness.client.post(
        "/api/v2/dags/report/dagRuns", headers=team, json={"dag_id": "payroll", "logical_date": None}
    )
    assert mismatch.status_code == 400
    assert mismatch.json() == {"detail": "The body names dag_id payroll but the URL names `report`"}
    for dag_id in ("etl", "payroll"):
        assert (await harness.patch(f"/api/v2/dags/{dag_id}", json={"is_paused": False})).status_code == 200
    everything = (await harness.get("/api/v2/eventLogs")).json()["event_logs"]
    payroll_entry = next(e["event_log_id"] for e in everything if e["dag_id"] == "payroll")
    seen = (await harness.client.get("/api/v2/eventLogs", headers=team)).json()["event_logs"]
    assert {e["dag_id"] for e in seen} == {"etl"}
    assert (await harness.client.get(f"/api/v2/eventLogs/{payroll_entry}", headers=team)).status_code == 404

    triggered = await harness.client.post(
        "/api/v2/dags/report/dagRuns", headers=team, json={"logical_date": None}
    )
    assert triggered.status_code == 200, triggered.text


async def test_built_in_roles_are_listed_and_cannot_be_changed(harness: Harness) -> None:
    roles = await harness.get("/api/couture/security/roles")
    names = [r["name"] for r in roles.json()["roles"]]
    assert names == ["Admin", "Op", "User", "Viewer", "Public", "Developer"]
    changed = await harness.patch(
        "/api/couture/security/roles/Viewer", json={"name": "Viewer", "actions": []}
    )
    assert changed.status_code == 400
    users = await harness.get("/api/couture/security/users")
    assert [u["username"] for u in users.json()["users"]] == ["superadmin"]
    bad_role = await harness.post(
        "/api/couture/security/users", json={"username": "x1", "password": "long-enough", "roles": ["Nope"]}
    )
    assert bad_role.status_code == 400
    assert bad_role.json() == {"detail": "roles: no role named Nope"}
