"""The registry judges a user's request as the gateway does: token, session still on, roles now."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest

from couture_auth.passwords import hash_password
from couture_common.events import UserCreated, UserEdited
from couture_registry.app import create_app
from couture_registry.main import RegistryAuth

from .test_gateway import Harness, harness, signing_key_pem

__all__ = ["harness", "signing_key_pem"]

FILES = "/api/couture/dags/files"
PASSWORD_HASH = hash_password("pass-word-1")


@pytest.fixture
async def registry(harness: Harness) -> AsyncIterator[httpx.AsyncClient]:
    """``couture registry`` on the gateway's log and home (its signing key), without COUTURE_AUTH_URL."""
    harness.settings.dags_path.mkdir(parents=True, exist_ok=True)
    auth = RegistryAuth(harness.settings, harness.log, service_token=None)
    app = create_app(
        harness.settings, harness.log, can_read=auth.can_read, can_edit=auth.can_edit, watch=False
    )
    try:
        async with app.router.lifespan_context(app):
            transport = httpx.ASGITransport(app=app)
            async with httpx.AsyncClient(transport=transport, base_url="http://127.0.0.1:8081") as client:
                yield client
    finally:
        await auth.directory.close()


async def bearer(harness: Harness, username: str, password: str = "pass-word-1") -> dict[str, str]:
    answer = await harness.client.post("/auth/token", json={"username": username, "password": password})
    assert answer.status_code == 201, answer.text
    return {"Authorization": f"Bearer {answer.json()['access_token']}"}


async def test_a_logout_at_the_gateway_is_refused_by_the_registry(
    harness: Harness, registry: httpx.AsyncClient
) -> None:
    assert (await registry.get(FILES, headers=harness.auth)).status_code == 200
    assert (await harness.post("/api/couture/users/me/logout")).status_code == 204
    refused = await registry.get(FILES, headers=harness.auth)
    assert refused.status_code == 401
    assert refused.json() == {"detail": "Token revoked (logged out)"}
    assert (await registry.get(FILES)).status_code == 401


async def test_the_registry_checks_the_roles_a_user_holds_now(
    harness: Harness, registry: httpx.AsyncClient
) -> None:
    await harness.append(
        UserCreated(username="dev", password_hash=PASSWORD_HASH, roles=("Developer",)),
        UserCreated(username="vic", password_hash=PASSWORD_HASH, roles=("Viewer",)),
    )
    dev, vic = await bearer(harness, "dev"), await bearer(harness, "vic")
    assert (await registry.get(FILES, headers=dev)).status_code == 200
    # Editing passes the check (then finds no such file); a Viewer is stopped before.
    assert (await registry.delete(f"{FILES}/nope.py", headers=dev)).status_code == 404
    denied = await registry.get(FILES, headers=vic)
    assert denied.status_code == 403
    assert denied.json()["detail"].endswith("needs the permission can_list on Manage DAGs")
    assert (await registry.delete(f"{FILES}/nope.py", headers=vic)).status_code == 403

    # Demoted after the token was issued: the same token no longer edits.
    await harness.append(UserEdited(username="dev", roles=("Viewer",)))
    assert (await registry.get(FILES, headers=dev)).status_code == 403


async def test_a_cookie_session_works_at_the_registry_with_its_csrf_check(
    harness: Harness, registry: httpx.AsyncClient
) -> None:
    login = await harness.client.post(
        "/auth/login", json={"username": "superadmin", "password": "couture@123"}
    )
    assert login.status_code == 200
    # The gateway answered for host "gateway" (Secure cookies); a loopback browser gets plain ones.
    transport = httpx.ASGITransport(app=harness.app)
    async with httpx.AsyncClient(transport=transport, base_url="http://127.0.0.1:8080") as browser:
        csrf = (
            await browser.post("/auth/login", json={"username": "superadmin", "password": "couture@123"})
        ).json()["csrf_token"]
        registry.cookies = browser.cookies
    assert (await registry.get(FILES)).status_code == 200
    forged = await registry.delete(f"{FILES}/nope.py")
    assert forged.status_code == 403
    assert "CSRF" in forged.json()["detail"]
    assert (await registry.delete(f"{FILES}/nope.py", headers={"X-CSRF-Token": csrf})).status_code == 404
