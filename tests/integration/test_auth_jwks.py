"""The JWKS: published by the auth side, fetched and cached by verifiers, fetched again once on an
unknown ``kid`` (key rotation); and ``couture auth`` / the registry judging sessions like the gateway."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import httpx
import pytest
from starlette.types import Receive, Scope, Send

from couture_auth.adapters.jwks_client import RemoteJwks
from couture_auth.main import create_app as create_auth_app
from couture_auth.passwords import hash_password
from couture_auth.service import AuthService, signing_key_path
from couture_auth.tokens import (
    TokenIssuer,
    TokenVerifier,
    UnknownKeyError,
    decode,
    key_set,
    load_or_create_signing_key,
)
from couture_common.eventlog.sqlite import SqliteEventLog
from couture_common.events import AuditRecorded, Envelope, UserCreated, UserEdited, envelope
from couture_common.health import Readiness

from .test_gateway import Harness, harness, signing_key_pem

__all__ = ["harness", "signing_key_pem"]

CREDENTIALS = {"username": "superadmin", "password": "couture@123"}
ANA_HASH = hash_password("ana-pass-1")


async def test_the_gateway_publishes_the_key_every_token_names(harness: Harness) -> None:
    published = await harness.client.get("/auth/jwks.json")
    well_known = await harness.client.get("/.well-known/jwks.json")
    assert published.status_code == well_known.status_code == 200
    assert published.json() == well_known.json()
    claims = decode(harness.token, key_set(published.json()), now=datetime.now(UTC))
    assert claims.subject == "superadmin"
    assert not {"d", "p", "q"} & published.json()["keys"][0].keys()


@dataclass
class AuthServer:
    """``couture auth`` as its own app on one address; ``restart`` brings it back on another home
    (another signing key: a key rotation), behind the same address."""

    tmp_path: Path
    log: SqliteEventLog
    current: object = None
    auth: AuthService | None = None
    generation: int = 0

    async def restart(self, key_pem: bytes | None = None) -> AuthService:
        if self.auth is not None:
            await self.auth.close()
        self.generation += 1
        home = self.tmp_path / f"auth-{self.generation}"
        (home / "data").mkdir(parents=True)
        if key_pem is not None:
            signing_key_path(home).write_bytes(key_pem)
        self.auth = AuthService(self.log, home=home, admin_password="couture@123")
        await self.auth.start()
        self.current = create_auth_app(self.auth, Readiness(), self.log, always_secure_cookies=False)
        return self.auth

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        await self.current(scope, receive, send)  # type: ignore[operator]


@pytest.fixture
async def auth_server(tmp_path: Path, signing_key_pem: bytes) -> AsyncIterator[AuthServer]:
    log = SqliteEventLog(tmp_path / "events.db", sync="normal")
    await log.start()
    server = AuthServer(tmp_path, log)
    await server.restart(signing_key_pem)
    try:
        yield server
    finally:
        if server.auth is not None:
            await server.auth.close()
        await log.close()


def counting_client(server: AuthServer, fetched: list[str]) -> httpx.AsyncClient:
    async def count(request: httpx.Request) -> None:
        fetched.append(request.url.path)

    return httpx.AsyncClient(
        transport=httpx.ASGITransport(app=server), base_url="http://auth", event_hooks={"request": [count]}
    )


async def login(client: httpx.AsyncClient) -> dict[str, str]:
    answer = await client.post("/auth/token", json=CREDENTIALS)
    assert answer.status_code == 201, answer.text
    tokens: dict[str, str] = answer.json()
    return tokens


async def test_a_verifier_fetches_the_jwks_once_and_again_once_for_a_rotated_key(
    auth_server: AuthServer, tmp_path: Path
) -> None:
    fetched: list[str] = []
    async with counting_client(auth_server, fetched) as client:
        verifier = TokenVerifier(RemoteJwks("http://auth", client=client, min_refetch_interval=0))
        now = datetime.now(UTC)
        first = await login(client)
        assert (await verifier.verify(first["access_token"], now=now)).subject == "superadmin"
        assert (await verifier.verify(first["access_token"], now=now)).subject == "superadmin"
        assert fetched.count("/auth/jwks.json") == 1

        await auth_server.restart()  # a new signing key
        rotated = await login(client)
        assert (await verifier.verify(rotated["access_token"], now=now)).subject == "superadmin"
        assert fetched.count("/auth/jwks.json") == 2

        stranger = TokenIssuer(load_or_create_signing_key(tmp_path / "stranger.pem"))
        forged = stranger.issue("superadmin", ("Admin",), now=now)
        with pytest.raises(UnknownKeyError):
            await verifier.verify(forged, now=now)
        # Fetched once more for the unknown kid, then refused.
        assert fetched.count("/auth/jwks.json") == 3


async def test_unknown_kids_cannot_make_a_verifier_hammer_the_auth_service(
    auth_server: AuthServer, tmp_path: Path
) -> None:
    fetched: list[str] = []
    async with counting_client(auth_server, fetched) as client:
        verifier = TokenVerifier(RemoteJwks("http://auth", client=client, min_refetch_interval=60))
        now = datetime.now(UTC)
        await verifier.verify((await login(client))["access_token"], now=now)
        stranger = TokenIssuer(load_or_create_signing_key(tmp_path / "stranger.pem"))
        for n in range(5):
            with pytest.raises(UnknownKeyError):
                await verifier.verify(stranger.issue(f"user{n}", (), now=now), now=now)
        assert fetched.count("/auth/jwks.json") == 1


async def test_couture_auth_alone_audits_logins_and_judges_refreshes_by_the_current_session(
    auth_server: AuthServer,
) -> None:
    fetched: list[str] = []
    async with counting_client(auth_server, fetched) as client:
        wrong = await client.post("/auth/token", json={"username": "superadmin", "password": "nope"})
        assert wrong.status_code == 401
        tokens = await login(client)
        trail = await _audit_trail(auth_server.log)
        audited = [e.payload for e in trail if isinstance(e.payload, AuditRecorded)]
        assert [(a.action, a.username, a.outcome) for a in audited] == [
            ("login", "superadmin", "failed"),
            ("login", "superadmin", "success"),
        ]
        assert {e.actor for e in trail} == {"service:auth"}

        # Roles changed by another process: the renewed token carries the current ones.
        await auth_server.log.append(
            [
                envelope(
                    UserCreated(username="ana", password_hash=hash_password("ana-pass-1"), roles=("Viewer",)),
                    actor="test",
                )
            ]
        )
        ana = (await client.post("/auth/token", json={"username": "ana", "password": "ana-pass-1"})).json()
        await auth_server.log.append([envelope(UserEdited(username="ana", roles=("Op",)), actor="test")])
        renewed = await client.post("/auth/refresh", json={"refresh_token": ana["refresh_token"]})
        assert renewed.status_code == 200
        assert auth_server.auth is not None
        claims = await auth_server.auth.verifier.verify(renewed.json()["access_token"], now=datetime.now(UTC))
        assert claims.roles == ("Op",)

        access = await auth_server.auth.verifier.verify(tokens["access_token"], now=datetime.now(UTC))
        await auth_server.auth.logout(access, now=datetime.now(UTC))
        refused = await client.post("/auth/refresh", json={"refresh_token": tokens["refresh_token"]})
        assert refused.status_code == 401


async def _audit_trail(log: SqliteEventLog) -> list[Envelope]:
    """Every envelope on the audit topic, oldest first."""
    consumer = log.consumer([AuditRecorded.TOPIC])
    found: list[Envelope] = []
    try:
        while records := await consumer.poll(timeout=0):
            found += [r.envelope for r in records]
    finally:
        await consumer.close()
    return found
