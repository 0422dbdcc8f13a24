"""Given config-topic events, the variable, connection and pool rows; secrets stay tokens."""

from __future__ import annotations

import json

from couture_common.events import (
    ConnectionDeleted,
    ConnectionSet,
    PoolDeleted,
    PoolSet,
    VariableDeleted,
    VariableSet,
)
from couture_gateway.readmodels.tables import connection, event_log, pool, variable

from .builders import ReadModels

TOKEN = "gAAAAABfake-fernet-token"


async def test_a_variable_is_stored_encrypted_and_its_value_never_audited(models: ReadModels) -> None:
    await models.given(
        VariableSet(key="api_key", value=TOKEN, description="vendor key"),
        VariableSet(key="other", value=TOKEN),
        actor="user:alice",
    )
    await models.given(VariableDeleted(key="other"), actor="user:alice")

    assert await models.rows(variable) == [
        {"key": "api_key", "encrypted_value": TOKEN, "description": "vendor key", "is_encrypted": True}
    ]
    entries = await models.rows(event_log)
    assert [(e["event"], e["owner"], json.loads(e["extra"])) for e in entries] == [
        ("variable.set", "alice", {"key": "api_key"}),
        ("variable.set", "alice", {"key": "other"}),
        ("variable.delete", "alice", {"key": "other"}),
    ]
    assert all(TOKEN not in (e["extra"] or "") for e in entries)


async def test_several_connection_entries_share_a_conn_id(models: ReadModels) -> None:
    await models.given(
        ConnectionSet(entry_id="e1", conn_id="hive", conn_type="hive", host="h1", password=TOKEN),
        ConnectionSet(entry_id="e2", conn_id="hive", conn_type="hive", host="h2", port=10000),
        actor="user:alice",
    )
    await models.given(ConnectionDeleted(entry_id="e1", conn_id="hive"), actor="user:alice")

    rows = await models.rows(connection, conn_id="hive")
    assert [(r["entry_id"], r["host"], r["port"], r["encrypted_password"]) for r in rows] == [
        ("e2", "h2", 10000, None)
    ]
    assert all(TOKEN not in (e["extra"] or "") for e in await models.rows(event_log))


async def test_the_default_pool_exists_and_pools_follow_their_events(models: ReadModels) -> None:
    assert await models.rows(pool) == [
        {"name": "default_pool", "slots": 128, "description": "Default pool", "include_deferred": False}
    ]

    await models.given(PoolSet(name="spark", slots=4), PoolSet(name="default_pool", slots=64))
    await models.given(PoolSet(name="spark", slots=8, include_deferred=True))
    assert {p["name"]: (p["slots"], p["include_deferred"]) for p in await models.rows(pool)} == {
        "default_pool": (64, False),
        "spark": (8, True),
    }

    await models.given(PoolDeleted(name="spark"))
    assert [p["name"] for p in await models.rows(pool)] == ["default_pool"]
