"""Distributed: the gateway and the registry hold no key of the auth service's; they verify its
tokens against its JWKS over HTTP, and a session logged out anywhere is refused everywhere (real
processes)."""

from __future__ import annotations

import httpx

from .test_services_processes import PASSWORD, Deployment, deployment

__all__ = ["deployment"]


def test_gateway_and_registry_verify_auth_tokens_by_its_jwks_and_share_its_revocations(
    deployment: Deployment,
) -> None:
    auth = deployment.start("auth", home=deployment.root / "auth-home")
    auth.wait_ready()
    gateway = deployment.start(
        "gateway",
        home=deployment.root / "gateway-home",
        COUTURE_AUTH_URL=auth.base_url,
        COUTURE_DATABASE_URL=f"sqlite+aiosqlite:///{deployment.root / 'readmodels.db'}",
    )
    registry = deployment.start(
        "registry", home=deployment.root / "registry-home", COUTURE_AUTH_URL=auth.base_url
    )
    gateway.wait_ready()
    registry.wait_ready()

    jwks = httpx.get(f"{auth.base_url}/auth/jwks.json", timeout=5).json()
    login = httpx.post(
        f"{auth.base_url}/auth/token", json={"username": "superadmin", "password": PASSWORD}, timeout=10
    )
    assert login.status_code == 201
    tokens = login.json()
    bearer = {"Authorization": f"Bearer {tokens['access_token']}"}
    dags, files = f"{gateway.base_url}/api/v2/dags", f"{registry.base_url}/api/couture/dags/files"
    assert httpx.get(dags, headers=bearer, timeout=10).status_code == 200
    assert httpx.get(files, headers=bearer, timeout=10).status_code == 200
    # The gateway's own key is another one; its JWKS is its own, not the auth service's.
    assert httpx.get(f"{gateway.base_url}/.well-known/jwks.json", timeout=5).json() != jwks

    # Renewed at the auth service, logged out at the gateway: the registry refuses the session too.
    refresh = f"{auth.base_url}/auth/refresh"
    renewed = httpx.post(refresh, json={"refresh_token": tokens["refresh_token"]}, timeout=10)
    assert renewed.status_code == 200
    fresh = {"Authorization": f"Bearer {renewed.json()['access_token']}"}
    logout = httpx.post(f"{gateway.base_url}/api/couture/users/me/logout", headers=fresh, timeout=10)
    assert logout.status_code == 204
    for url in (dags, files):
        refused = httpx.get(url, headers=bearer, timeout=10)
        assert refused.status_code == 401, url
        assert refused.json() == {"detail": "Token revoked (logged out)"}
    assert (
        httpx.post(refresh, json={"refresh_token": renewed.json()["refresh_token"]}, timeout=10).status_code
        == 401
    )

    for process in (gateway, registry, auth):
        assert process.terminate() == 0
