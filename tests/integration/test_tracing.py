"""One trace per run: the trigger request, the scheduler's decisions and every try share it."""

from __future__ import annotations

import asyncio
from pathlib import Path

import httpx
from opentelemetry import trace
from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from couture_common.settings import Settings
from couture_gateway.app import create_app
from couture_standalone.engine import Engine

DAG = """
from datetime import datetime
from airflow import DAG
from airflow.operators.bash import BashOperator

with DAG("traced", start_date=datetime(2024, 1, 1), schedule=None) as dag:
    first = BashOperator(task_id="first", bash_command="echo 1")
    first >> BashOperator(task_id="second", bash_command="echo 2")
"""

EXPORTER = InMemorySpanExporter()


def _provider() -> None:
    provider = trace.get_tracer_provider()
    if not isinstance(provider, TracerProvider):
        provider = TracerProvider()
        trace.set_tracer_provider(provider)
    provider.add_span_processor(SimpleSpanProcessor(EXPORTER))


async def test_a_triggered_run_is_one_trace_from_request_to_tries(tmp_path: Path) -> None:
    _provider()
    (tmp_path / "dags").mkdir()
    (tmp_path / "dags" / "traced.py").write_text(DAG)
    # An operator-chosen admin password needs no forced change at first login.
    settings = Settings(home=tmp_path, admin_password="tracing-admin-pass")
    async with Engine(settings) as engine:
        assert engine.readmodels is not None and engine.projector is not None
        app = create_app(
            log=engine.log, engine=engine.readmodels, settings=settings, projector=engine.projector
        )
        async with (
            app.router.lifespan_context(app),
            httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://gateway") as client,
        ):
            token = (
                await client.post(
                    "/auth/token", json={"username": "superadmin", "password": "tracing-admin-pass"}
                )
            ).json()["access_token"]
            headers = {"Authorization": f"Bearer {token}"}
            await engine.registry.idle()
            for _ in range(100):
                if (
                    await client.patch("/api/v2/dags/traced", json={"is_paused": False}, headers=headers)
                ).is_success:
                    break
                await asyncio.sleep(0.05)
            EXPORTER.clear()
            answer = await client.post("/api/v2/dags/traced/dagRuns", json={}, headers=headers)
            assert answer.status_code == 200, answer.text
            run_id = answer.json()["dag_run_id"]
            for _ in range(200):
                run = (await client.get(f"/api/v2/dags/traced/dagRuns/{run_id}", headers=headers)).json()
                if run["state"] in ("success", "failed"):
                    break
                await asyncio.sleep(0.05)
            assert run["state"] == "success"

    spans: tuple[ReadableSpan, ...] = EXPORTER.get_finished_spans()
    trigger = next(
        s
        for s in spans
        if s.name == "HTTP POST" and s.attributes and "dagRuns" in str(s.attributes["http.target"])
    )
    assert trigger.context is not None
    trace_id = trigger.context.trace_id
    in_trace = {s.name for s in spans if s.context is not None and s.context.trace_id == trace_id}
    assert {"dag_run", "execute traced.first", "execute traced.second"} <= in_trace
    assert any(name.startswith("scheduler ti.queued") for name in in_trace)
