"""The gateway's REST API against a real SQLite event log, read models and a running projector.

Also the harness the other ``test_gateway_*`` modules import: a running app, a token, and
helpers that seed data by appending real events and waiting until they are projected.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import json
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from cryptography.fernet import Fernet
from fastapi import FastAPI
from fastapi.routing import APIRoute, iter_route_contexts

from couture_auth import AuthenticationFailed, AuthService
from couture_auth.service import signing_key_path
from couture_auth.tokens import TokenIssuer, load_or_create_signing_key
from couture_common.dagspec import DagSpec, ScheduleSpec, TaskSpec
from couture_common.eventlog import EventLog, Record
from couture_common.eventlog.sqlite import SqliteEventLog
from couture_common.events import (
    DagFileProcessed,
    DagParsed,
    DagRunCreated,
    Event,
    TaskInstanceFinished,
    TaskInstanceQueued,
    TaskInstanceScheduled,
    TaskInstanceStarted,
    UserPasswordChanged,
    envelope,
)
from couture_common.events.run import TryOutcome
from couture_common.settings import Settings
from couture_gateway.app import create_app
from couture_gateway.readmodels.migrations import open_readmodels
from couture_gateway.readmodels.projector import Projector, position_after

START = datetime(2024, 1, 1, tzinfo=UTC)


def dag_spec(
    dag_id: str, *, tags: Sequence[str] = (), owner: str = "airflow", paused_at_creation: bool = True
) -> DagSpec:
    return DagSpec(
        dag_id=dag_id,
        fileloc=f"/dags/{dag_id}.py",
        schedule=ScheduleSpec(kind="cron", cron="0 0 * * *", display="@daily"),
        start_date=START,
        tags=tuple(tags),
        owner=owner,
        is_paused_upon_creation=paused_at_creation,
        tasks=(
            TaskSpec(task_id="extract", operator="BashOperator", owner=owner),
            TaskSpec(
                task_id="transform", operator="PythonOperator", upstream=("extract",), owner=owner, retries=2
            ),
            TaskSpec(task_id="load", operator="BashOperator", upstream=("transform",), owner=owner),
        ),
    )


@dataclass(frozen=True)
class Endpoint:
    path: str
    methods: frozenset[str]
    name: str


#: Routes streaming until the client leaves: walks over every route skip them, and
#: tests/integration/test_gateway_live.py checks them.
STREAMS = frozenset({"get_live_changes"})


def endpoints(app: FastAPI) -> list[Endpoint]:
    """Every API route of the app, through the routers it includes."""
    return [
        Endpoint(ctx.path, frozenset(ctx.methods or ()), ctx.name)
        for ctx in iter_route_contexts(app.routes)
        if isinstance(ctx.original_route, APIRoute) and ctx.path is not None and ctx.name is not None
    ]


@dataclass
class Harness:
    app: FastAPI
    client: httpx.AsyncClient
    log: EventLog
    projector: Projector
    settings: Settings
    token: str
    versions: dict[str, str] = field(default_factory=dict)

    @property
    def auth(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"}

    async def request(
        self, method: str, url: str, headers: dict[str, str] | None = None, **kw: Any
    ) -> httpx.Response:
        return await self.client.request(method, url, headers={**self.auth, **(headers or {})}, **kw)

    async def get(self, url: str, **kwargs: Any) -> httpx.Response:
        return await self.request("GET", url, **kwargs)

    async def post(self, url: str, **kwargs: Any) -> httpx.Response:
        return await self.request("POST", url, **kwargs)

    async def patch(self, url: str, **kwargs: Any) -> httpx.Response:
        return await self.request("PATCH", url, **kwargs)

    async def delete(self, url: str, **kwargs: Any) -> httpx.Response:
        return await self.request("DELETE", url, **kwargs)

    async def append(self, *events: Event, actor: str = "service:test") -> list[Record]:
        """Append events as another service would, and wait until the read models show them."""
        records = await self.log.append([envelope(e, actor=actor) for e in events])
        await self.projector.wait_for(position_after(records), timeout=10)
        return records

    async def add_dag(self, dag_id: str, **kwargs: Any) -> DagSpec:
        spec = dag_spec(dag_id, **kwargs)
        version = hashlib.sha256(dag_id.encode()).hexdigest()
        self.versions[dag_id] = version
        await self.append(
            DagParsed(dag_id=dag_id, version=version, spec=spec),
            DagFileProcessed(fileloc=spec.fileloc, version=version, dag_ids=(dag_id,)),
        )
        blob = self.settings.blobs_path / "dags" / f"{version}.py"
        blob.parent.mkdir(parents=True, exist_ok=True)
        blob.write_text(f"# the source of {dag_id}\n")
        return spec

    async def accept_run(self, dag_id: str, run_id: str, logical_date: datetime = START) -> None:
        """The scheduler's side of a trigger: the run is created on the DAG's version."""
        await self.append(
            DagRunCreated(
                dag_id=dag_id,
                run_id=run_id,
                run_type="manual",
                logical_date=logical_date,
                data_interval_start=logical_date,
                data_interval_end=logical_date + timedelta(days=1),
                dag_version=self.versions[dag_id],
            ),
            actor="service:scheduler",
        )

    async def run_task(
        self, dag_id: str, run_id: str, task_id: str, outcome: TryOutcome, *, try_number: int = 1
    ) -> None:
        """One try of a task from scheduling to its result, as the scheduler and executor log it."""
        began = START + timedelta(minutes=try_number)
        await self.append(
            TaskInstanceScheduled(dag_id=dag_id, run_id=run_id, task_id=task_id, try_number=try_number),
            TaskInstanceQueued(
                dag_id=dag_id, run_id=run_id, task_id=task_id, try_number=try_number, max_tries=2
            ),
            TaskInstanceStarted(
                dag_id=dag_id,
                run_id=run_id,
                task_id=task_id,
                try_number=try_number,
                hostname="worker-1",
                pid=4242,
                executor_id="executor-1",
                start_date=began,
            ),
            TaskInstanceFinished(
                dag_id=dag_id,
                run_id=run_id,
                task_id=task_id,
                try_number=try_number,
                state=outcome,
                start_date=began,
                end_date=began + timedelta(seconds=30),
            ),
            actor="service:executor",
        )

    async def logged(self, event_type: type[Event]) -> list[Any]:
        """Every payload of ``event_type`` in the log, oldest first."""
        consumer = self.log.consumer([event_type.TOPIC])
        found: list[Any] = []
        try:
            while records := await consumer.poll(timeout=0):
                found += [r.envelope.payload for r in records if isinstance(r.envelope.payload, event_type)]
        finally:
            await consumer.close()
        return found


@pytest.fixture(scope="session")
def signing_key_pem(tmp_path_factory: pytest.TempPathFactory) -> bytes:
    """One RSA key for the whole session: generating one per test would dominate its run time."""
    path = tmp_path_factory.mktemp("keys") / "jwt.pem"
    load_or_create_signing_key(path)
    return path.read_bytes()


@pytest.fixture
async def harness(tmp_path: Path, signing_key_pem: bytes) -> AsyncIterator[Harness]:
    # An operator-set admin password needs no change at first login (the manual's default does).
    settings = Settings(
        home=tmp_path, fernet_key=Fernet.generate_key().decode(), admin_password="couture@123"
    )
    (tmp_path / "data").mkdir()
    signing_key_path(tmp_path).write_bytes(signing_key_pem)
    log = SqliteEventLog(tmp_path / "data" / "events.db", sync="normal")
    await log.start()
    engine = await open_readmodels(f"sqlite+aiosqlite:///{tmp_path / 'data' / 'readmodels.db'}")
    projector = Projector(engine, log)
    await projector.start()
    projecting = asyncio.create_task(projector.run())
    app = create_app(log=log, engine=engine, settings=settings, projector=projector)
    try:
        async with app.router.lifespan_context(app):
            transport = httpx.ASGITransport(app=app)
            async with httpx.AsyncClient(transport=transport, base_url="http://gateway") as client:
                answer = await client.post(
                    "/auth/token", json={"username": "superadmin", "password": "couture@123"}
                )
                assert answer.status_code == 201, answer.text
                yield Harness(app, client, log, projector, settings, answer.json()["access_token"])
    finally:
        projecting.cancel()
        with pytest.raises(asyncio.CancelledError):
            await projecting
        await projector.close()
        await engine.dispose()
        await log.close()


# --- auth ----------------------------------------------------------------------------------------


async def test_every_api_route_but_token_health_and_version_requires_a_bearer_token(harness: Harness) -> None:
    routes = [e for e in endpoints(harness.app) if e.path.startswith("/api/")]
    assert len(routes) > 40
    open_paths = {"/api/v2/monitor/health", "/api/v2/version"}
    for route in routes:
        path = route.path.replace("{", "").replace("}", "")
        for method in route.methods:
            answer = await harness.client.request(method, path)
            if route.path in open_paths:
                assert answer.status_code == 200, (method, route.path)
            else:
                assert answer.status_code == 401, (method, route.path, answer.text)
                assert answer.json() == {"detail": "Not authenticated"}


async def test_token_from_form_encoded_credentials_works_and_wrong_password_is_401(harness: Harness) -> None:
    good = await harness.client.post(
        "/auth/token", data={"username": "superadmin", "password": "couture@123"}
    )
    assert good.status_code == 201
    token = good.json()["access_token"]
    assert (
        await harness.client.get("/api/v2/dags", headers={"Authorization": f"Bearer {token}"})
    ).status_code == 200

    bad = await harness.client.post("/auth/token", json={"username": "superadmin", "password": "nope"})
    assert bad.status_code == 401
    assert bad.json() == {"detail": "Invalid username or password"}
    unknown = await harness.client.post(
        "/auth/token", json={"username": "mallory", "password": "couture@123"}
    )
    assert unknown.status_code == 401


async def test_token_request_without_password_is_422_naming_the_field(harness: Harness) -> None:
    answer = await harness.client.post("/auth/token", json={"username": "superadmin"})
    assert answer.status_code == 422
    assert answer.json()["detail"][0]["loc"] == ["body", "password"]


def _b64(data: dict[str, Any]) -> str:
    return base64.urlsafe_b64encode(json.dumps(data).encode()).rstrip(b"=").decode()


async def test_tampered_unsigned_and_expired_tokens_are_refused(harness: Harness) -> None:
    header, claims, signature = harness.token.split(".")
    payload = json.loads(base64.urlsafe_b64decode(claims + "=" * (-len(claims) % 4)))
    forged_claims = _b64({**payload, "sub": "someone-else"})
    unsigned = f"{_b64({'alg': 'none', 'typ': 'JWT'})}.{claims}."
    issuer = TokenIssuer(
        load_or_create_signing_key(signing_key_path(harness.settings.home)), ttl=timedelta(minutes=5)
    )
    expired = issuer.issue("superadmin", ("Admin",), now=datetime.now(UTC) - timedelta(hours=1))
    foreign = TokenIssuer(load_or_create_signing_key(harness.settings.home / "other.pem")).issue(
        "superadmin", ("Admin",), now=datetime.now(UTC)
    )
    for token in (f"{header}.{forged_claims}.{signature}", unsigned, expired, foreign, "not-a-jwt"):
        answer = await harness.client.get("/api/v2/dags", headers={"Authorization": f"Bearer {token}"})
        assert answer.status_code == 401, token
        assert answer.json() == {"detail": "Invalid or expired token"}


async def test_the_token_names_its_user_and_roles(harness: Harness) -> None:
    me = (await harness.get("/api/couture/users/me")).json()
    # What the roles permit is checked in test_my_permissions.py.
    assert me.pop("permissions")["everything"] is True
    assert me == {
        "username": "superadmin",
        "roles": ["Admin"],
        "email": None,
        "first_name": None,
        "last_name": None,
    }


async def test_a_user_changes_their_password_and_logs_in_with_the_new_one(harness: Harness) -> None:
    url = "/api/couture/users/me/password"
    wrong = await harness.post(url, json={"current_password": "nope", "new_password": "n3w-passw0rd"})
    assert wrong.status_code == 400
    short = await harness.post(url, json={"current_password": "couture@123", "new_password": "short"})
    assert short.status_code == 422
    assert short.json()["detail"][0]["loc"] == ["body", "new_password"]

    changed = await harness.post(
        url, json={"current_password": "couture@123", "new_password": "n3w-passw0rd"}
    )
    assert changed.status_code == 204
    [event] = await harness.logged(UserPasswordChanged)
    assert event.username == "superadmin"
    assert event.password_hash.startswith("$argon2id$")
    old = {"username": "superadmin", "password": "couture@123"}
    new = {"username": "superadmin", "password": "n3w-passw0rd"}
    assert (await harness.client.post("/auth/token", json=old)).status_code == 401
    assert (await harness.client.post("/auth/token", json=new)).status_code == 201


# --- monitor -------------------------------------------------------------------------------------


async def test_health_and_version_are_open(harness: Harness) -> None:
    health = await harness.client.get("/api/v2/monitor/health")
    assert health.status_code == 200
    assert health.json()["metadatabase"] == {"status": "healthy"}
    version = await harness.client.get("/api/v2/version")
    assert version.status_code == 200
    assert version.json()["version"]


async def test_superadmin_is_created_once_with_the_configured_password(tmp_path: Path) -> None:
    (tmp_path / "data").mkdir()
    log = SqliteEventLog(tmp_path / "data" / "events.db", sync="normal")
    await log.start()
    try:
        first = AuthService(log, home=tmp_path, admin_password="first-secret")
        await first.start()
        await first.close()
        restarted = AuthService(log, home=tmp_path, admin_password="changed-later")
        await restarted.start()
        assert await restarted.login("superadmin", "first-secret", now=datetime.now(UTC))
        with pytest.raises(AuthenticationFailed):
            await restarted.login("superadmin", "changed-later", now=datetime.now(UTC))
        await restarted.close()

        consumer = log.consumer(["auth"])
        created = [r.envelope.payload for r in await consumer.poll(timeout=1)]
        await consumer.close()
        assert [type(e).__name__ for e in created] == ["UserCreated"]
        assert all("first-secret" not in str(e) for e in created)
    finally:
        await log.close()
