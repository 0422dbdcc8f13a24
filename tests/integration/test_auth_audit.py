"""Browse → Audit Logs: every write and login attempt, with who, what, where from and the outcome."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import sqlalchemy as sa

from couture_auth.passwords import hash_password
from couture_common.eventlog import TopicPartition
from couture_common.events import AuditRecorded, UserCreated, encode_payload
from couture_common.topics import AUDIT, TOPICS
from couture_gateway.readmodels.migrations import SCHEMA_VERSION, open_readmodels
from couture_gateway.readmodels.security_tables import audit_log
from couture_gateway.readmodels.tables import schema_version

from .test_gateway import STREAMS, Harness, endpoints, harness, signing_key_pem

__all__ = ["harness", "signing_key_pem"]

SECRET_VALUE = "s3cr3t-variable-value"
NEW_PASSWORD = "n3w-pa55word-xyz"
WRONG_PASSWORD = "wr0ng-pa55word-abc"


async def audit_entries(harness: Harness, **params: Any) -> list[dict[str, Any]]:
    """The audit log once everything appended so far is projected."""
    ends = await harness.log.end_offsets(AUDIT)
    await harness.projector.wait_for({TopicPartition(AUDIT, p): end for p, end in ends.items()}, timeout=10)
    answer = await harness.get("/api/couture/auditLogs", params={"limit": 100, **params})
    assert answer.status_code == 200, answer.text
    entries: list[dict[str, Any]] = answer.json()["audit_logs"]
    assert answer.json()["total_entries"] == len(entries)
    return entries


async def test_writes_and_logins_are_recorded_with_user_action_target_ip_and_outcome(
    harness: Harness,
) -> None:
    await harness.add_dag("etl")
    created = await harness.post(
        "/api/v2/variables",
        json={"key": "db_password", "value": SECRET_VALUE},
        headers={"X-Request-ID": "req-1"},
    )
    assert created.status_code == 201
    assert created.headers["x-request-id"] == "req-1"
    await harness.client.post("/auth/token", json={"username": "superadmin", "password": WRONG_PASSWORD})
    await harness.append(
        UserCreated(username="vic", password_hash=hash_password("viewer-pass"), roles=("Viewer",))
    )
    token = (
        await harness.client.post("/auth/token", json={"username": "vic", "password": "viewer-pass"})
    ).json()
    viewer = {"Authorization": f"Bearer {token['access_token']}", "X-Forwarded-For": "203.0.113.9"}
    denied = await harness.client.post(
        "/api/v2/dags/etl/dagRuns", headers=viewer, json={"logical_date": None}
    )
    assert denied.status_code == 403

    entries = {(e["action"], e["username"], e["outcome"]): e for e in await audit_entries(harness)}
    variable = entries[("post_variable", "superadmin", "success")]
    assert variable["target"] == "key=db_password"
    assert variable["request_id"] == "req-1"
    assert (variable["method"], variable["path"], variable["status_code"]) == (
        "POST",
        "/api/v2/variables",
        201,
    )
    assert variable["source_ip"] == "127.0.0.1"
    assert ("login", "superadmin", "failed") in entries
    assert ("login", "vic", "success") in entries
    trigger = entries[("trigger_dag_run", "vic", "denied")]
    assert (trigger["dag_id"], trigger["status_code"]) == ("etl", 403)
    # The peer is not a trusted proxy, so the address it claims to forward for is not believed.
    assert trigger["source_ip"] == "127.0.0.1"


async def test_no_secret_reaches_the_audit_topic_or_the_audit_log(harness: Harness) -> None:
    await harness.post("/api/v2/variables", json={"key": "token", "value": SECRET_VALUE})
    await harness.patch("/api/v2/variables/token", json={"key": "token", "value": SECRET_VALUE + "2"})
    connection = {"connection_id": "db", "conn_type": "postgres", "password": SECRET_VALUE}
    assert (await harness.post("/api/v2/connections", json=connection)).status_code == 201
    reset = {"current_password": "couture@123", "new_password": NEW_PASSWORD}
    assert (await harness.post("/api/couture/users/me/password", json=reset)).status_code == 204
    await harness.client.post("/auth/token", json={"username": "superadmin", "password": WRONG_PASSWORD})

    entries = await audit_entries(harness)
    assert {e["action"] for e in entries} == {
        "post_variable",
        "patch_variable",
        "post_connection",
        "change_my_password",
        "login",
    }
    records = await harness.logged(AuditRecorded)
    assert len(records) == len(entries)
    stored = b"".join(encode_payload(r) for r in records) + repr(entries).encode()
    for secret in (SECRET_VALUE, NEW_PASSWORD, WRONG_PASSWORD, "couture@123"):
        assert secret.encode() not in stored


async def test_audit_logs_filter_by_user_action_outcome_dag_and_time_and_page(harness: Harness) -> None:
    for dag_id in ("etl", "report"):
        await harness.add_dag(dag_id)
        assert (await harness.patch(f"/api/v2/dags/{dag_id}", json={"is_paused": False})).status_code == 200
    await harness.client.post("/auth/token", json={"username": "mallory", "password": WRONG_PASSWORD})

    # The harness's own login comes first.
    assert [e["action"] for e in await audit_entries(harness)] == ["login", "patch_dag", "patch_dag", "login"]
    assert [e["dag_id"] for e in await audit_entries(harness, dag_id="etl")] == ["etl"]
    assert [e["username"] for e in await audit_entries(harness, outcome="failed")] == ["mallory"]
    assert len(await audit_entries(harness, action="patch_dag", username="superadmin")) == 2
    later = (datetime.now(UTC) + timedelta(minutes=1)).isoformat()
    assert await audit_entries(harness, since=later) == []
    assert len(await audit_entries(harness, until=later)) == 4
    page = await harness.get("/api/couture/auditLogs", params={"limit": 1, "offset": 2, "order_by": "when"})
    assert page.json()["total_entries"] == 4
    assert [e["dag_id"] for e in page.json()["audit_logs"]] == ["report"]


async def test_no_get_endpoint_changes_anything(harness: Harness) -> None:
    await harness.add_dag("etl")
    await harness.accept_run("etl", "manual_1")

    async def ends() -> dict[str, dict[int, int]]:
        return {topic: await harness.log.end_offsets(topic) for topic in TOPICS}

    before = await ends()
    for endpoint in endpoints(harness.app):
        if "GET" in endpoint.methods and endpoint.path.startswith("/api/") and endpoint.name not in STREAMS:
            path = endpoint.path.replace("{dag_id}", "etl").replace("{dag_run_id}", "manual_1")
            await harness.get(path.replace("{", "").replace("}", ""))
    assert await ends() == before


async def test_a_version_2_read_model_database_gains_the_audit_log(tmp_path: Path) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'rm.db'}"
    engine = await open_readmodels(url)
    async with engine.begin() as conn:
        await conn.execute(sa.text("DROP TABLE audit_log"))
        await conn.execute(sa.delete(schema_version))
        await conn.execute(sa.insert(schema_version).values(version=2, applied_at=datetime.now(UTC)))
    await engine.dispose()

    engine = await open_readmodels(url)
    try:
        async with engine.connect() as conn:
            assert await conn.scalar(sa.select(sa.func.count()).select_from(audit_log)) == 0
            assert await conn.scalar(sa.select(sa.func.max(schema_version.c.version))) == SCHEMA_VERSION
    finally:
        await engine.dispose()
