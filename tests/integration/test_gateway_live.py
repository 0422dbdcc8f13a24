"""Live updates over a real HTTP server: a browser's event stream hears what the projector applied,
only about DAGs its user may read, and a stream that falls behind is cut with a resync."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
import uvicorn

from couture_gateway.app import close_live_streams
from couture_gateway.live import LiveHub, LiveSettings
from couture_gateway.readmodels.changes import Change
from tests.e2e.standalone import free_port

from .test_gateway import Harness, harness, signing_key_pem
from .test_rbac import role_body, sign_in

__all__ = ["harness", "signing_key_pem"]

LIVE = "/api/couture/live"


@dataclass
class Served:
    harness: Harness
    base_url: str

    @property
    def hub(self) -> LiveHub:
        hub: LiveHub = self.harness.app.state.live
        return hub


@pytest.fixture
async def served(harness: Harness) -> AsyncIterator[Served]:
    """The harness's app (lifespan already entered) behind a real uvicorn server."""
    port = free_port()
    server = uvicorn.Server(
        uvicorn.Config(harness.app, host="127.0.0.1", port=port, lifespan="off", log_level="warning")
    )
    serving = asyncio.create_task(server.serve())
    while not server.started:
        assert not serving.done(), "the server did not start"
        await asyncio.sleep(0.01)
    try:
        yield Served(harness, f"http://127.0.0.1:{port}")
    finally:
        close_live_streams(harness.app)
        server.should_exit = True
        await asyncio.wait_for(serving, timeout=10)


class Stream:
    """Server-sent events as they arrive: ``(event, data)``, or ``("comment", text)``."""

    def __init__(self, response: httpx.Response) -> None:
        self.response = response
        self._lines = response.aiter_lines()

    async def next(self, timeout: float = 10.0) -> tuple[str, Any]:
        async with asyncio.timeout(timeout):
            event, data = "message", ""
            async for line in self._lines:
                if line.startswith(":"):
                    return "comment", line[1:].strip()
                if line.startswith("event:"):
                    event = line[6:].strip()
                elif line.startswith("data:"):
                    data += line[5:].strip()
                elif line == "" and data:
                    return event, json.loads(data)
            return "end", None

    async def changes_until(self, wanted: Change, timeout: float = 10.0) -> set[Change]:
        """Every change heard until ``wanted`` is among them."""
        heard: set[Change] = set()
        async with asyncio.timeout(timeout):
            while wanted not in heard:
                event, data = await self.next()
                assert event in ("change", "comment"), (event, data)
                if event == "change":
                    heard |= {Change(c["kind"], c.get("dag_id"), c.get("run_id")) for c in data["changes"]}
        return heard


@asynccontextmanager
async def stream(served: Served, headers: dict[str, str]) -> AsyncIterator[Stream]:
    async with (
        httpx.AsyncClient(base_url=served.base_url, timeout=30) as client,
        client.stream("GET", LIVE, headers=headers) as response,
    ):
        assert response.status_code == 200, await response.aread()
        assert response.headers["content-type"].startswith("text/event-stream")
        events = Stream(response)
        assert (await events.next())[0] == "ready"
        yield events


async def test_a_triggered_run_and_its_tasks_are_heard_live(served: Served) -> None:
    h = served.harness
    await h.add_dag("etl")
    async with stream(served, h.auth) as events:
        triggered = await h.post("/api/v2/dags/etl/dagRuns", json={"dag_run_id": "manual_1"})
        assert triggered.status_code == 200, triggered.text
        assert Change("dag_run", "etl", "manual_1") in await events.changes_until(
            Change("dag_run", "etl", "manual_1")
        )
        await h.accept_run("etl", "run_2")
        await h.run_task("etl", "run_2", "extract", "success")
        heard = await events.changes_until(Change("task_instance", "etl", "run_2"))
        assert Change("dag_run", "etl", "run_2") in heard


async def test_a_user_hears_nothing_of_dags_they_may_not_read(served: Served) -> None:
    h = served.harness
    for dag_id in ("etl", "payroll"):
        await h.add_dag(dag_id)
    role = role_body(
        "team-a",
        ("can_list", "DagModelView"),
        ("can_list", "DagRunModelView"),
        ("can_list", "TaskInstanceModelView"),
        ("can_dag_read", "etl"),
    )
    assert (await h.post("/api/couture/security/roles", json=role)).status_code == 201
    team = await sign_in(h, "tess", "team-a")
    async with stream(served, team) as events:
        await h.accept_run("payroll", "secret_run")
        await h.run_task("payroll", "secret_run", "extract", "failed")
        await h.post("/api/v2/variables", json={"key": "region", "value": "eu"})
        await h.accept_run("etl", "run_1")
        heard = await events.changes_until(Change("dag_run", "etl", "run_1"))
    assert heard == {Change("dag_run", "etl", "run_1"), Change("task_instance", "etl", "run_1")}


async def test_a_stream_that_falls_behind_is_cut_with_a_resync(served: Served) -> None:
    served.hub.settings = LiveSettings(queue_size=4)
    async with stream(served, served.harness.auth) as events:
        # Published without yielding to the loop: the server cannot send any of it meanwhile.
        for n in range(50):
            served.hub.publish(frozenset({Change("dag_run", "etl", f"run_{n}")}))
        assert served.hub.streams_of("superadmin") == 0
        assert await events.next() == ("resync", {"reason": "the stream fell behind; refetch and reconnect"})
        assert await events.next() == ("end", None)


async def test_streams_per_user_are_limited_heartbeats_flow_and_shutdown_ends_streams(served: Served) -> None:
    served.hub.settings = LiveSettings(heartbeat=0.2, streams_per_user=2)
    h = served.harness
    async with stream(served, h.auth) as first, stream(served, h.auth):
        async with httpx.AsyncClient(base_url=served.base_url) as client:
            third = await client.get(LIVE, headers=h.auth)
        assert third.status_code == 429
        assert third.json() == {"detail": "superadmin already has 2 live streams open"}
        # Changes may come first (the admin hears of the login's audit record); a heartbeat follows.
        while (heard := await first.next(timeout=2))[0] == "change":
            pass
        assert heard == ("comment", "keep-alive")

        close_live_streams(h.app)
        assert await first.next(timeout=5) == ("end", None)
    async with httpx.AsyncClient(base_url=served.base_url) as client:
        assert (await client.get(LIVE, headers=h.auth)).status_code == 503


async def test_the_stream_needs_a_signed_in_user(served: Served) -> None:
    async with httpx.AsyncClient(base_url=served.base_url) as client:
        assert (await client.get(LIVE)).status_code == 401
        bad = await client.get(LIVE, headers={"Authorization": "Bearer not-a-token"})
        assert bad.status_code == 401


async def test_a_browser_session_cookie_opens_the_stream_and_logging_out_ends_it(served: Served) -> None:
    served.hub.settings = LiveSettings(heartbeat=0.2)
    async with httpx.AsyncClient(base_url=served.base_url, timeout=30) as browser:
        login = await browser.post("/auth/login", json={"username": "superadmin", "password": "couture@123"})
        assert login.status_code == 200, login.text
        assert "authorization" not in {k.lower() for k in browser.headers}
        async with browser.stream("GET", LIVE) as response:
            assert response.status_code == 200, await response.aread()
            events = Stream(response)
            assert (await events.next())[0] == "ready"
            csrf = next(value for name, value in browser.cookies.items() if name.endswith("couture_csrf"))
            out = await browser.post("/api/couture/users/me/logout", headers={"X-CSRF-Token": csrf})
            assert out.status_code == 204, out.text
            # The next heartbeat re-checks the session: revoked, the stream ends.
            while (heard := await events.next(timeout=5))[0] in ("change", "comment"):
                pass
            assert heard == ("end", None)
