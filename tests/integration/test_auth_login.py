"""Logging in: brute force is locked out, the manual's default password must be changed, logout revokes."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest
from cryptography.fernet import Fernet

from couture_auth.passwords import hash_password
from couture_auth.service import signing_key_path
from couture_common.eventlog.sqlite import SqliteEventLog
from couture_common.events import TokenRevoked, UserCreated
from couture_common.settings import Settings
from couture_gateway.app import create_app
from couture_gateway.readmodels.migrations import open_readmodels
from couture_gateway.readmodels.projector import Projector

from .test_gateway import Harness, harness, signing_key_pem

__all__ = ["harness", "signing_key_pem"]

TOKEN_URL = "/auth/token"


async def test_five_wrong_passwords_lock_the_username_even_for_the_right_one(harness: Harness) -> None:
    for _ in range(5):
        wrong = await harness.client.post(TOKEN_URL, json={"username": "superadmin", "password": "guess"})
        assert wrong.status_code == 401
    right = await harness.client.post(TOKEN_URL, json={"username": "superadmin", "password": "couture@123"})
    assert right.status_code == 429
    assert right.json()["detail"].startswith("Too many failed logins; try again in ")
    assert 0 < int(right.headers["Retry-After"]) <= 15 * 60
    # The token issued before the lockout still works; only logging in is refused.
    assert (await harness.get("/api/v2/dags")).status_code == 200


async def test_one_address_guessing_many_usernames_is_locked_out(harness: Harness) -> None:
    await harness.append(
        UserCreated(username="ana", password_hash=hash_password("ana-password"), roles=("Viewer",))
    )
    for n in range(20):
        await harness.client.post(TOKEN_URL, json={"username": f"guess{n}", "password": "x"})
    refused = await harness.client.post(TOKEN_URL, json={"username": "ana", "password": "ana-password"})
    assert refused.status_code == 429


async def test_logout_revokes_the_token_and_only_that_token(harness: Harness) -> None:
    second = await harness.client.post(TOKEN_URL, json={"username": "superadmin", "password": "couture@123"})
    other = {"Authorization": f"Bearer {second.json()['access_token']}"}
    assert (await harness.post("/api/couture/users/me/logout")).status_code == 204
    [revoked] = await harness.logged(TokenRevoked)
    assert revoked.username == "superadmin"

    answer = await harness.get("/api/v2/dags")
    assert answer.status_code == 401
    assert answer.json() == {"detail": "Token revoked (logged out)"}
    assert (await harness.client.get("/api/v2/dags", headers=other)).status_code == 200


async def test_a_logout_is_a_post_and_a_get_changes_nothing(harness: Harness) -> None:
    assert (await harness.get("/api/couture/users/me/logout")).status_code == 405
    assert (await harness.get("/api/v2/dags")).status_code == 200


@pytest.fixture
async def default_install(tmp_path: Path, signing_key_pem: bytes) -> AsyncIterator[httpx.AsyncClient]:
    """A gateway on a fresh home whose operator set no admin password (the manual's default)."""
    (tmp_path / "data").mkdir()
    signing_key_path(tmp_path).write_bytes(signing_key_pem)
    log = SqliteEventLog(tmp_path / "data" / "events.db", sync="normal")
    await log.start()
    engine = await open_readmodels(f"sqlite+aiosqlite:///{tmp_path / 'data' / 'readmodels.db'}")
    projector = Projector(engine, log)
    await projector.start()
    projecting = asyncio.create_task(projector.run())
    settings = Settings(home=tmp_path, fernet_key=Fernet.generate_key().decode())
    app = create_app(log=log, engine=engine, settings=settings, projector=projector)
    try:
        async with app.router.lifespan_context(app):
            transport = httpx.ASGITransport(app=app)
            async with httpx.AsyncClient(transport=transport, base_url="http://gateway") as client:
                yield client
    finally:
        projecting.cancel()
        with pytest.raises(asyncio.CancelledError):
            await projecting
        await projector.close()
        await engine.dispose()
        await log.close()


async def test_the_default_superadmin_must_change_the_password_before_anything_else(
    default_install: httpx.AsyncClient,
) -> None:
    client = default_install
    login = await client.post(TOKEN_URL, json={"username": "superadmin", "password": "couture@123"})
    assert login.status_code == 201
    headers = {"Authorization": f"Bearer {login.json()['access_token']}"}
    refused = await client.get("/api/v2/dags", headers=headers)
    assert refused.status_code == 403
    assert refused.json() == {
        "detail": "Password change required: set a new one with POST /api/couture/users/me/password"
    }
    assert (await client.get("/api/couture/users/me", headers=headers)).status_code == 200

    change = {"current_password": "couture@123", "new_password": "a-better-passw0rd"}
    assert (
        await client.post("/api/couture/users/me/password", json=change, headers=headers)
    ).status_code == 204
    assert (await client.get("/api/v2/dags", headers=headers)).status_code == 200


async def test_a_refresh_token_buys_access_tokens_until_the_session_logs_out(harness: Harness) -> None:
    tokens = (
        await harness.client.post(TOKEN_URL, json={"username": "superadmin", "password": "couture@123"})
    ).json()
    access = {"Authorization": f"Bearer {tokens['access_token']}"}
    refresh = {"refresh_token": tokens["refresh_token"]}

    renewed = await harness.client.post("/auth/refresh", json=refresh)
    assert renewed.status_code == 200
    fresh = {"Authorization": f"Bearer {renewed.json()['access_token']}"}
    assert (await harness.client.get("/api/v2/dags", headers=fresh)).status_code == 200
    # Neither kind of token passes for the other.
    as_access = {"Authorization": f"Bearer {tokens['refresh_token']}"}
    assert (await harness.client.get("/api/v2/dags", headers=as_access)).status_code == 401
    as_refresh = {"refresh_token": tokens["access_token"]}
    assert (await harness.client.post("/auth/refresh", json=as_refresh)).status_code == 401

    assert (await harness.client.post("/api/couture/users/me/logout", headers=access)).status_code == 204
    refused = await harness.client.post("/auth/refresh", json=refresh)
    assert refused.status_code == 401
    assert refused.json() == {"detail": "Invalid or expired refresh token"}
    assert (await harness.client.get("/api/v2/dags", headers=fresh)).status_code == 401
