"""The OpenAPI document describes every route, and real answers match its response schemas."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from couture_common.events import DagRunRequested, TaskInstanceRendered

from .test_gateway import START, Harness, endpoints, harness, signing_key_pem

__all__ = ["harness", "signing_key_pem"]

_TYPES: dict[str, tuple[type, ...]] = {
    "object": (dict,),
    "array": (list,),
    "string": (str,),
    "integer": (int,),
    "number": (int, float),
    "boolean": (bool,),
    "null": (type(None),),
}


def violations(value: Any, schema: dict[str, Any], doc: dict[str, Any], where: str = "$") -> list[str]:
    """Where ``value`` breaks ``schema`` (the JSON Schema subset FastAPI's documents use)."""
    if "$ref" in schema:
        name = schema["$ref"].rsplit("/", 1)[-1]
        return violations(value, doc["components"]["schemas"][name], doc, where)
    for key in ("anyOf", "oneOf"):
        if key in schema:
            options = [violations(value, option, doc, where) for option in schema[key]]
            return (
                [] if any(not found for found in options) else [f"{where}: matches none of {key}: {options}"]
            )
    found: list[str] = []
    expected = schema.get("type")
    if expected is not None:
        allowed = _TYPES[expected]
        if not isinstance(value, allowed) or (expected in ("integer", "number") and isinstance(value, bool)):
            return [f"{where}: {value!r} is not {expected}"]
    if "enum" in schema and value not in schema["enum"]:
        found.append(f"{where}: {value!r} not in {schema['enum']}")
    if schema.get("format") == "date-time" and isinstance(value, str):
        try:
            datetime.fromisoformat(value)
        except ValueError:
            found.append(f"{where}: {value!r} is not RFC 3339")
    if isinstance(value, dict):
        found += [f"{where}: missing {name}" for name in schema.get("required", []) if name not in value]
        for name, sub in schema.get("properties", {}).items():
            if name in value:
                found += violations(value[name], sub, doc, f"{where}.{name}")
    if isinstance(value, list) and "items" in schema:
        for i, item in enumerate(value):
            found += violations(item, schema["items"], doc, f"{where}[{i}]")
    return found


async def test_every_route_is_in_the_document_with_its_security(harness: Harness) -> None:
    doc = (await harness.client.get("/openapi.json")).json()
    open_routes = {
        "/auth/token",
        "/auth/login",
        "/auth/refresh",
        "/auth/jwks.json",
        "/.well-known/jwks.json",
        "/api/v2/monitor/health",
        "/api/v2/version",
    }
    routes = endpoints(harness.app)
    assert len(routes) > 40
    for route in routes:
        for method in route.methods:
            operation = doc["paths"][route.path][method.lower()]
            assert operation["operationId"] == route.name
            if route.path in open_routes:
                assert "security" not in operation, route.path
            else:
                assert operation["security"] == [{"HTTPBearer": []}], route.path
    documented = {(path, m.upper()) for path, ops in doc["paths"].items() for m in ops}
    assert documented == {(r.path, m) for r in routes for m in r.methods}
    assert (await harness.client.get("/docs")).status_code == 200


async def test_answers_match_their_documented_response_schemas(harness: Harness) -> None:
    await harness.add_dag("etl", tags=["t"])
    await harness.post(
        "/api/v2/dags/etl/dagRuns", json={"dag_run_id": "r1", "logical_date": START.isoformat()}
    )
    await harness.accept_run("etl", "r1")
    await harness.run_task("etl", "r1", "extract", "success")
    await harness.append(
        TaskInstanceRendered(
            dag_id="etl",
            run_id="r1",
            task_id="extract",
            try_number=1,
            rendered_fields={"bash_command": "echo"},
        ),
        DagRunRequested(dag_id="etl", run_id="child", logical_date=START, triggered_by_task="etl/r1/extract"),
        actor="service:executor",
    )
    await harness.post("/api/v2/variables", json={"key": "k", "value": "v"})
    await harness.post(
        "/api/v2/connections", json={"connection_id": "c", "conn_type": "http", "password": "p"}
    )
    doc = (await harness.client.get("/openapi.json")).json()
    samples = [
        ("/api/v2/dags", "/api/v2/dags"),
        ("/api/v2/dags/{dag_id}", "/api/v2/dags/etl"),
        ("/api/v2/dags/{dag_id}/details", "/api/v2/dags/etl/details"),
        ("/api/v2/dags/{dag_id}/tasks", "/api/v2/dags/etl/tasks"),
        ("/api/v2/dags/{dag_id}/dagRuns", "/api/v2/dags/~/dagRuns"),
        ("/api/v2/dags/{dag_id}/dagRuns/{dag_run_id}", "/api/v2/dags/etl/dagRuns/r1"),
        (
            "/api/v2/dags/{dag_id}/dagRuns/{dag_run_id}/taskInstances",
            "/api/v2/dags/etl/dagRuns/r1/taskInstances",
        ),
        (
            "/api/v2/dags/{dag_id}/dagRuns/{dag_run_id}/taskInstances/{task_id}/tries",
            "/api/v2/dags/etl/dagRuns/r1/taskInstances/extract/tries",
        ),
        (
            "/api/v2/dags/{dag_id}/dagRuns/{dag_run_id}/taskInstances/{task_id}",
            "/api/v2/dags/etl/dagRuns/r1/taskInstances/extract",
        ),
        (
            "/api/v2/dags/{dag_id}/dagRuns/{dag_run_id}/taskInstances/{task_id}/tries/{task_try_number}",
            "/api/v2/dags/etl/dagRuns/r1/taskInstances/extract/tries/1",
        ),
        (
            "/api/v2/dags/{dag_id}/dagRuns/{dag_run_id}/taskInstances/{task_id}/links",
            "/api/v2/dags/etl/dagRuns/r1/taskInstances/extract/links",
        ),
        (
            "/api/couture/dags/{dag_id}/dagRuns/{dag_run_id}/taskInstances/{task_id}/triggeredDagRuns",
            "/api/couture/dags/etl/dagRuns/r1/taskInstances/extract/triggeredDagRuns",
        ),
        ("/api/v2/variables", "/api/v2/variables"),
        ("/api/v2/connections/{connection_id}", "/api/v2/connections/c"),
        ("/api/v2/pools", "/api/v2/pools"),
        ("/api/v2/importErrors", "/api/v2/importErrors"),
        ("/api/v2/eventLogs", "/api/v2/eventLogs"),
        ("/api/v2/dagStats", "/api/v2/dagStats"),
        ("/api/v2/dagSources/{dag_id}", "/api/v2/dagSources/etl"),
        ("/api/v2/monitor/health", "/api/v2/monitor/health"),
        ("/api/v2/dags/{dag_id}", "/api/v2/dags/nope"),
        ("/api/v2/dags", "/api/v2/dags?limit=1000"),
    ]
    rendered = (await harness.get("/api/v2/dags/etl/dagRuns/r1/taskInstances/extract")).json()
    assert rendered["rendered_fields"] == {"bash_command": "echo"}
    linked = (
        await harness.get("/api/couture/dags/etl/dagRuns/r1/taskInstances/extract/triggeredDagRuns")
    ).json()
    assert [(r["dag_id"], r["dag_run_id"]) for r in linked["dag_runs"]] == [("etl", "child")]
    for template, url in samples:
        answer = await harness.get(url)
        documented = doc["paths"][template]["get"]["responses"][str(answer.status_code)]
        schema = documented["content"]["application/json"]["schema"]
        assert violations(answer.json(), schema, doc) == [], url
