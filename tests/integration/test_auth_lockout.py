"""The login lockout is shared by every gateway on one event log and survives a restart: its
state is folded from the log's ``login`` topic, not kept in one process."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from cryptography.fernet import Fernet

from couture_auth import AuthenticationFailed, AuthService, LoginThrottled
from couture_auth.service import signing_key_path
from couture_common.clock import utcnow
from couture_common.eventlog import EventLog
from couture_common.eventlog.factory import open_event_log
from couture_common.eventlog.sqlite import SqliteEventLog
from couture_common.events import Event, LoginFailed, LoginFailuresCleared
from couture_common.settings import Settings
from couture_common.topics import LOGIN
from couture_gateway.app import create_app
from couture_gateway.readmodels.migrations import open_readmodels
from couture_gateway.readmodels.projector import Projector

from .test_eventlog_kafka import namespace
from .test_gateway import signing_key_pem

__all__ = ["namespace", "signing_key_pem"]

TOKEN_URL = "/auth/token"
RIGHT = {"username": "superadmin", "password": "couture@123"}
WRONG = {"username": "superadmin", "password": "a guess"}


@pytest.fixture
def home(tmp_path: Path, signing_key_pem: bytes) -> Path:
    (tmp_path / "data").mkdir()
    signing_key_path(tmp_path).write_bytes(signing_key_pem)
    return tmp_path


@asynccontextmanager
async def gateway(home: Path, name: str, **options: Any) -> AsyncIterator[httpx.AsyncClient]:
    """A gateway of its own (own log connection, read models, auth service) on the shared log file,
    as a second process or a restarted one would have; ``options`` are more of its settings."""
    settings = Settings(home=home, fernet_key=FERNET_KEY, admin_password="couture@123", **options)
    log = SqliteEventLog(home / "data" / "events.db", sync="normal")
    await log.start()
    engine = await open_readmodels(f"sqlite+aiosqlite:///{home / 'data' / f'readmodels-{name}.db'}")
    projector = Projector(engine, log)
    await projector.start()
    app = create_app(log=log, engine=engine, settings=settings, projector=projector)
    try:
        async with app.router.lifespan_context(app):
            transport = httpx.ASGITransport(app=app)
            async with httpx.AsyncClient(transport=transport, base_url=f"http://{name}") as client:
                yield client
    finally:
        await projector.close()
        await engine.dispose()
        await log.close()


FERNET_KEY = Fernet.generate_key().decode()


async def statuses(client: httpx.AsyncClient, body: dict[str, str], times: int) -> list[int]:
    return [(await client.post(TOKEN_URL, json=body)).status_code for _ in range(times)]


async def logged_failures(home: Path) -> list[Event]:
    log = SqliteEventLog(home / "data" / "events.db", sync="normal")
    await log.start()
    try:
        consumer = log.consumer([LOGIN])
        found = [r.envelope.payload for r in await consumer.poll(timeout=1)]
        await consumer.close()
    finally:
        await log.close()
    return found


async def test_failures_at_two_gateways_add_up_and_both_refuse_the_right_password(home: Path) -> None:
    async with gateway(home, "one") as one, gateway(home, "two") as two:
        assert await statuses(one, WRONG, 3) == [401, 401, 401]
        assert await statuses(two, WRONG, 2) == [401, 401]
        for client in (one, two):
            refused = await client.post(TOKEN_URL, json=RIGHT)
            assert refused.status_code == 429, refused.text
            assert 0 < int(refused.headers["Retry-After"]) <= 15 * 60


async def test_a_restarted_gateway_still_refuses_a_locked_username(home: Path) -> None:
    async with gateway(home, "before") as before:
        assert await statuses(before, WRONG, 5) == [401] * 5
        assert (await before.post(TOKEN_URL, json=RIGHT)).status_code == 429
    async with gateway(home, "after") as after:
        refused = await after.post(TOKEN_URL, json=RIGHT)
        assert refused.status_code == 429, refused.text
    failures = await logged_failures(home)
    assert [type(e) for e in failures] == [LoginFailed] * 5
    assert all(isinstance(e, LoginFailed) and e.username == "superadmin" for e in failures)
    assert all("a guess" not in str(e) for e in failures)


async def test_a_success_at_one_gateway_clears_the_count_the_other_sees(home: Path) -> None:
    async with gateway(home, "one") as one, gateway(home, "two") as two:
        assert await statuses(one, WRONG, 4) == [401] * 4
        assert (await two.post(TOKEN_URL, json=RIGHT)).status_code == 201
        # Without the clearing, the next failure would be the fifth and lock the name.
        assert await statuses(one, WRONG, 4) == [401] * 4
        assert (await one.post(TOKEN_URL, json=RIGHT)).status_code == 201
    kinds = [type(e) for e in await logged_failures(home)]
    assert kinds == [LoginFailed] * 4 + [LoginFailuresCleared] + [LoginFailed] * 4 + [LoginFailuresCleared]


async def test_on_kafka_auth_services_share_the_lockout_at_once_and_after_a_restart(
    home: Path, kafka_bootstrap: str, namespace: str
) -> None:
    """The same on the real broker: a failure one process logged is counted by the next login
    anywhere, however lazily the other consumer fetches."""
    url = f"kafka://{kafka_bootstrap}?namespace={namespace}"

    @asynccontextmanager
    async def auth_service() -> AsyncIterator[AuthService]:
        log: EventLog = open_event_log(url)
        await log.start()
        service = AuthService(log, home=home, admin_password="couture@123")
        try:
            await service.start()
            yield service
        finally:
            await service.close()
            await log.close()

    now = utcnow()
    async with auth_service() as one, auth_service() as two:
        for service in (one, two, one, two, one):
            with pytest.raises(AuthenticationFailed):
                await service.login("superadmin", "a guess", now=now, source_ip="192.0.2.7")
        for service in (two, one):
            with pytest.raises(LoginThrottled):
                await service.login("superadmin", "couture@123", now=now, source_ip="198.51.100.1")
    async with auth_service() as restarted:
        with pytest.raises(LoginThrottled):
            await restarted.login("superadmin", "couture@123", now=now, source_ip="198.51.100.1")
        later = now + timedelta(minutes=16)
        assert await restarted.login("superadmin", "couture@123", now=later, source_ip="198.51.100.1")
