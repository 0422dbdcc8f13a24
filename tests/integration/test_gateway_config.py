"""Variables, connections, pools, import errors and the audit trail through the REST API."""

from __future__ import annotations

import json

from couture_common.events import ConnectionSet, DagImportFailed, PoolSet, VariableSet

from .test_gateway import Harness, harness, signing_key_pem

__all__ = ["harness", "signing_key_pem"]


async def test_variable_crud_with_values_encrypted_in_the_log(harness: Harness) -> None:
    created = await harness.post(
        "/api/v2/variables", json={"key": "region", "value": "eu-west", "description": "d"}
    )
    assert created.status_code == 201
    assert created.json() == {
        "key": "region",
        "value": "eu-west",
        "description": "d",
        "is_encrypted": True,
        "team_name": None,
    }
    [logged] = await harness.logged(VariableSet)
    assert "eu-west" not in logged.value
    assert harness.settings.secret_box.decrypt(logged.value) == "eu-west"

    assert (await harness.get("/api/v2/variables/region")).json()["value"] == "eu-west"
    patched = await harness.patch("/api/v2/variables/region", json={"key": "region", "value": {"a": 1}})
    assert patched.json()["value"] == '{"a": 1}'
    assert (await harness.post("/api/v2/variables", json={"key": "region", "value": "x"})).status_code == 409
    assert (await harness.delete("/api/v2/variables/region")).status_code == 204
    missing = await harness.get("/api/v2/variables/region")
    assert missing.status_code == 404
    assert missing.json() == {"detail": "The Variable with key: `region` was not found"}


async def test_secret_looking_variables_are_masked_in_every_answer(harness: Harness) -> None:
    for key in ("db_password", "my_api_key", "AWS_SECRET"):
        answer = await harness.post("/api/v2/variables", json={"key": key, "value": "hunter2"})
        assert answer.json()["value"] == "***"
    assert (await harness.get("/api/v2/variables/db_password")).json()["value"] == "***"
    listed = (await harness.get("/api/v2/variables")).json()
    assert {v["value"] for v in listed["variables"]} == {"***"}
    assert "hunter2" not in (await harness.get("/api/v2/variables")).text


async def test_variables_page_order_and_validate(harness: Harness) -> None:
    for key in ("a", "b", "c"):
        await harness.post("/api/v2/variables", json={"key": key, "value": key})
    page = (await harness.get("/api/v2/variables", params={"order_by": "-key", "limit": 2})).json()
    assert [v["key"] for v in page["variables"]] == ["c", "b"]
    assert page["total_entries"] == 3
    no_value = await harness.post("/api/v2/variables", json={"key": "d"})
    assert no_value.status_code == 422
    assert no_value.json()["detail"][0]["loc"] == ["body", "value"]
    mismatch = await harness.patch("/api/v2/variables/a", json={"key": "b", "value": "x"})
    assert mismatch.status_code == 400


async def test_connection_passwords_are_write_only_and_encrypted(harness: Harness) -> None:
    body = {
        "connection_id": "warehouse",
        "conn_type": "postgres",
        "host": "db",
        "login": "etl",
        "password": "s3cr3t",
        "port": 5432,
        "schema": "public",
        "extra": json.dumps({"sslmode": "require", "api_key": "k"}),
    }
    created = await harness.post("/api/v2/connections", json=body)
    assert created.status_code == 201
    answer = created.json()
    assert answer["password"] is None
    assert answer["schema"] == "public"
    assert json.loads(answer["extra"]) == {"sslmode": "require", "api_key": "***"}
    [logged] = await harness.logged(ConnectionSet)
    assert logged.password is not None
    assert harness.settings.secret_box.decrypt(logged.password) == "s3cr3t"

    fetched = await harness.get("/api/v2/connections/warehouse")
    assert fetched.json()["password"] is None
    assert "s3cr3t" not in (await harness.get("/api/v2/connections")).text
    assert (await harness.post("/api/v2/connections", json=body)).status_code == 409

    patched = await harness.patch(
        "/api/v2/connections/warehouse", params={"update_mask": "host"}, json={**body, "host": "db2"}
    )
    assert patched.json()["host"] == "db2"
    [_, update] = await harness.logged(ConnectionSet)
    assert harness.settings.secret_box.decrypt(update.password or "") == "s3cr3t"


async def test_several_entries_share_one_connection_id(harness: Harness) -> None:
    first = {"connection_id": "spark", "conn_type": "spark", "host": "a"}
    await harness.post("/api/v2/connections", json=first)
    extra = await harness.post("/api/couture/connections/spark/entries", json={**first, "host": "b"})
    assert extra.status_code == 201
    entries = (await harness.get("/api/couture/connections/spark/entries")).json()
    assert [e["host"] for e in entries["entries"]] == ["a", "b"]
    listed = (await harness.get("/api/v2/connections")).json()
    assert listed["total_entries"] == 1
    assert listed["connections"][0]["host"] == "a"

    await harness.delete(f"/api/couture/connections/spark/entries/{entries['entries'][0]['entry_id']}")
    assert (await harness.get("/api/v2/connections/spark")).json()["host"] == "b"
    assert (await harness.delete("/api/v2/connections/spark")).status_code == 204
    assert (await harness.get("/api/v2/connections/spark")).status_code == 404


async def test_connection_validation_names_the_field(harness: Harness) -> None:
    no_type = await harness.post("/api/v2/connections", json={"connection_id": "x"})
    assert no_type.status_code == 422
    assert no_type.json()["detail"][0]["loc"] == ["body", "conn_type"]
    bad_extra = await harness.post(
        "/api/v2/connections", json={"connection_id": "x", "conn_type": "http", "extra": "{"}
    )
    assert bad_extra.status_code == 422
    assert bad_extra.json()["detail"][0]["loc"] == ["body", "extra"]
    spaced = await harness.post("/api/v2/connections", json={"connection_id": "my conn", "conn_type": "http"})
    assert spaced.status_code == 422
    assert spaced.json()["detail"][0]["loc"] == ["body", "connection_id"]


async def test_pool_crud_and_default_pool_protection(harness: Harness) -> None:
    default = (await harness.get("/api/v2/pools/default_pool")).json()
    assert default["slots"] == 128
    assert default["open_slots"] == 128
    created = await harness.post(
        "/api/v2/pools", json={"name": "spark", "slots": 4, "description": "cluster"}
    )
    assert created.status_code == 201
    assert created.json()["open_slots"] == 4
    assert await harness.logged(PoolSet) == [PoolSet(name="spark", slots=4, description="cluster")]
    assert (await harness.post("/api/v2/pools", json={"name": "spark", "slots": 1})).status_code == 409
    patched = await harness.patch("/api/v2/pools/spark", json={"slots": 8})
    assert patched.json()["slots"] == 8
    assert patched.json()["description"] == "cluster"
    listed = (await harness.get("/api/v2/pools")).json()
    assert [p["name"] for p in listed["pools"]] == ["default_pool", "spark"]

    undeletable = await harness.delete("/api/v2/pools/default_pool")
    assert undeletable.status_code == 400
    assert undeletable.json() == {"detail": "Default Pool can't be deleted"}
    assert (await harness.delete("/api/v2/pools/spark")).status_code == 204
    assert (await harness.get("/api/v2/pools/spark")).status_code == 404
    negative = await harness.post("/api/v2/pools", json={"name": "bad", "slots": -5})
    assert negative.status_code == 422
    assert negative.json()["detail"][0]["loc"] == ["body", "slots"]


async def test_import_errors_and_event_logs(harness: Harness) -> None:
    await harness.append(
        DagImportFailed(fileloc="/dags/broken.py", version="v1", stacktrace="SyntaxError: boom")
    )
    errors = (await harness.get("/api/v2/importErrors")).json()
    assert errors["total_entries"] == 1
    error = errors["import_errors"][0]
    assert (error["filename"], error["stack_trace"]) == ("/dags/broken.py", "SyntaxError: boom")
    one = await harness.get(f"/api/v2/importErrors/{error['import_error_id']}")
    assert one.json()["filename"] == "/dags/broken.py"
    assert (await harness.get("/api/v2/importErrors/999999")).status_code == 404

    await harness.add_dag("etl")
    await harness.patch("/api/v2/dags/etl", json={"is_paused": False})
    logs = (await harness.get("/api/v2/eventLogs", params={"dag_id": "etl", "event": "unpause"})).json()
    assert logs["total_entries"] == 1
    assert logs["event_logs"][0]["owner"] == "superadmin"
    entry = await harness.get(f"/api/v2/eventLogs/{logs['event_logs'][0]['event_log_id']}")
    assert entry.json()["event"] == "unpause"


async def test_bulk_variables_apply_each_action_all_or_nothing(harness: Harness) -> None:
    await harness.post("/api/v2/variables", json={"key": "old", "value": "1", "description": "keep me"})
    answer = await harness.patch(
        "/api/v2/variables",
        json={
            "actions": [
                {"action": "create", "entities": [{"key": "a", "value": "x"}, {"key": "old", "value": "2"}]},
                {"action": "update", "entities": [{"key": "old", "value": "3"}], "update_mask": ["value"]},
                {"action": "delete", "entities": ["ghost"], "action_on_non_existence": "skip"},
            ]
        },
    )
    assert answer.status_code == 200, answer.text
    result = answer.json()
    assert result["create"] == {
        "success": [],
        "errors": [{"error": "The variables with these keys: ['old'] already exist.", "status_code": 409}],
    }
    assert result["update"] == {"success": ["old"], "errors": []}
    assert result["delete"] == {"success": [], "errors": []}
    old = (await harness.get("/api/v2/variables/old")).json()
    assert (old["value"], old["description"]) == ("3", "keep me")
    assert (await harness.get("/api/v2/variables/a")).status_code == 404

    bad = await harness.patch("/api/v2/variables", json={"actions": [{"action": "rename", "entities": []}]})
    assert bad.status_code == 422


async def test_bulk_pools_refuse_to_delete_the_default_pool(harness: Harness) -> None:
    answer = await harness.patch(
        "/api/v2/pools",
        json={
            "actions": [
                {"action": "create", "entities": [{"name": "gpu", "slots": 2}]},
                {"action": "delete", "entities": ["default_pool"]},
            ]
        },
    )
    result = answer.json()
    assert result["create"]["success"] == ["gpu"]
    assert result["delete"]["errors"] == [{"error": "Default Pool can't be deleted", "status_code": 400}]
    names = [p["name"] for p in (await harness.get("/api/v2/pools")).json()["pools"]]
    assert names == ["default_pool", "gpu"]


async def test_bulk_connections_update_the_primary_entry_and_delete_every_entry(harness: Harness) -> None:
    await harness.post(
        "/api/v2/connections", json={"connection_id": "db", "conn_type": "postgres", "host": "a"}
    )
    await harness.post(
        "/api/couture/connections/db/entries", json={"connection_id": "db", "conn_type": "postgres"}
    )
    answer = await harness.patch(
        "/api/v2/connections",
        json={
            "actions": [
                {
                    "action": "create",
                    "entities": [{"connection_id": "api", "conn_type": "http", "password": "pw"}],
                },
                {
                    "action": "update",
                    "entities": [{"connection_id": "db", "conn_type": "postgres", "host": "b"}],
                    "update_mask": ["host"],
                },
            ]
        },
    )
    assert answer.json()["create"]["success"] == ["api"]
    assert (await harness.get("/api/v2/connections/db")).json()["host"] == "b"
    assert (await harness.get("/api/v2/connections/api")).json()["password"] is None

    deleted = await harness.patch(
        "/api/v2/connections", json={"actions": [{"action": "delete", "entities": ["db"]}]}
    )
    assert deleted.json()["delete"]["success"] == ["db"]
    assert (await harness.get("/api/couture/connections/db/entries")).status_code == 404
