"""Browser sessions in cookies with CSRF protection, refresh-token rotation, and ``next=``."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import timedelta
from http.cookies import SimpleCookie

import httpx
import pytest

from couture_auth.service import AuthService, IssuedTokens
from couture_common.clock import utcnow
from couture_common.events import AuditRecorded, TokenRevoked

from .test_gateway import Harness, harness, signing_key_pem

__all__ = ["harness", "signing_key_pem"]

CREDENTIALS = {"username": "superadmin", "password": "couture@123"}
VARIABLE = {"key": "region", "value": "eu"}


@pytest.fixture
async def browser(harness: Harness) -> AsyncIterator[httpx.AsyncClient]:
    """A cookie-keeping client on the gateway as a browser on this machine reaches it (plain http
    on loopback: the one case where session cookies go without Secure)."""
    transport = httpx.ASGITransport(app=harness.app)
    async with httpx.AsyncClient(transport=transport, base_url="http://127.0.0.1:8080") as client:
        yield client


def set_cookies(answer: httpx.Response) -> dict[str, SimpleCookie]:
    """Each Set-Cookie of an answer by cookie name, with its attributes."""
    found: dict[str, SimpleCookie] = {}
    for header in answer.headers.get_list("set-cookie"):
        cookie: SimpleCookie = SimpleCookie()
        cookie.load(header)
        [name] = cookie.keys()
        found[name] = cookie
    return found


async def sign_in(client: httpx.AsyncClient) -> str:
    answer = await client.post("/auth/login", json=CREDENTIALS)
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert body["username"] == "superadmin"
    assert "access_token" not in body and "refresh_token" not in body
    csrf: str = body["csrf_token"]
    return csrf


async def test_login_sets_httponly_strict_cookies_scoped_to_their_paths(browser: httpx.AsyncClient) -> None:
    answer = await browser.post("/auth/login", json=CREDENTIALS)
    cookies = set_cookies(answer)
    assert set(cookies) == {"couture_access", "couture_refresh", "couture_csrf"}
    access = cookies["couture_access"]["couture_access"]
    refresh = cookies["couture_refresh"]["couture_refresh"]
    csrf = cookies["couture_csrf"]["couture_csrf"]
    assert access["httponly"] and refresh["httponly"] and not csrf["httponly"]
    assert {c["samesite"] for c in (access, refresh, csrf)} == {"strict"}
    assert (access["path"], refresh["path"], csrf["path"]) == ("/", "/auth/refresh", "/")
    # Plain http on loopback (local development) is the only place they are not Secure.
    assert not any(c["secure"] for c in (access, refresh, csrf))
    assert int(access["max-age"]) == 15 * 60
    assert int(refresh["max-age"]) == 7 * 24 * 3600
    assert csrf.value == answer.json()["csrf_token"]


@pytest.mark.parametrize("base_url", ["https://couture.example", "http://couture.example"])
async def test_cookies_are_secure_and_origin_bound_over_https_and_on_any_other_host(
    harness: Harness, base_url: str
) -> None:
    transport = httpx.ASGITransport(app=harness.app)
    async with httpx.AsyncClient(transport=transport, base_url=base_url) as client:
        answer = await client.post("/auth/login", json=CREDENTIALS)
    cookies = set_cookies(answer)
    assert set(cookies) == {"__Host-couture_access", "__Secure-couture_refresh", "__Host-couture_csrf"}
    assert all(jar[name]["secure"] for name, jar in cookies.items())


async def test_a_cookie_session_reads_freely_but_changes_only_with_the_csrf_header(
    browser: httpx.AsyncClient, harness: Harness
) -> None:
    csrf = await sign_in(browser)
    assert (await browser.get("/api/v2/dags")).status_code == 200

    missing = await browser.post("/api/v2/variables", json=VARIABLE)
    assert missing.status_code == 403
    assert "CSRF" in missing.json()["detail"] and "X-CSRF-Token" in missing.json()["detail"]
    wrong = await browser.post("/api/v2/variables", json=VARIABLE, headers={"X-CSRF-Token": csrf + "x"})
    assert wrong.status_code == 403
    assert wrong.json()["detail"].startswith("CSRF token wrong")
    for method in ("PATCH", "DELETE"):
        refused = await browser.request(method, "/api/v2/variables/region")
        assert refused.status_code == 403, method
    assert (await harness.get("/api/v2/variables/region")).status_code == 404

    accepted = await browser.post("/api/v2/variables", json=VARIABLE, headers={"X-CSRF-Token": csrf})
    assert accepted.status_code == 201, accepted.text
    assert (await harness.get("/api/v2/variables/region")).json()["value"] == "eu"


async def test_a_bearer_token_needs_no_csrf_header_even_beside_cookies(
    browser: httpx.AsyncClient, harness: Harness
) -> None:
    await sign_in(browser)
    answer = await browser.post("/api/v2/variables", json=VARIABLE, headers=harness.auth)
    assert answer.status_code == 201, answer.text


async def test_a_forged_cross_site_form_post_is_refused(browser: httpx.AsyncClient, harness: Harness) -> None:
    """What another site can make the browser send: the cookies (were SameSite ignored), no header."""
    await sign_in(browser)
    forged = await browser.post(
        "/api/v2/dags/etl/dagRuns",
        content=b'{"dag_run_id": "forged"}',
        headers={"Content-Type": "text/plain", "Origin": "https://evil.example"},
    )
    assert forged.status_code == 403
    assert "CSRF" in forged.json()["detail"]


async def test_logout_clears_the_cookies_and_revokes_the_session(
    browser: httpx.AsyncClient, harness: Harness
) -> None:
    csrf = await sign_in(browser)
    stolen_access = browser.cookies["couture_access"]
    assert (await browser.post("/api/couture/users/me/logout")).status_code == 403
    answer = await browser.post("/api/couture/users/me/logout", headers={"X-CSRF-Token": csrf})
    assert answer.status_code == 204
    cleared = set_cookies(answer)
    assert set(cleared) == {"couture_access", "couture_refresh", "couture_csrf"}
    assert {int(jar[name]["max-age"]) for name, jar in cleared.items()} == {0}
    assert cleared["couture_refresh"]["couture_refresh"]["path"] == "/auth/refresh"
    assert not browser.cookies
    [revoked] = await harness.logged(TokenRevoked)
    assert revoked.username == "superadmin"

    replayed = await harness.client.get("/api/v2/dags", headers={"Authorization": f"Bearer {stolen_access}"})
    assert replayed.status_code == 401
    assert replayed.json() == {"detail": "Token revoked (logged out)"}
    assert (await browser.get("/api/v2/dags")).status_code == 401


async def test_the_refresh_cookie_renews_the_session_and_a_lost_answer_may_be_retried(
    browser: httpx.AsyncClient,
) -> None:
    csrf = await sign_in(browser)
    old_refresh = browser.cookies["couture_refresh"]
    assert (await browser.post("/auth/refresh")).status_code == 403

    renewed = await browser.post("/auth/refresh", headers={"X-CSRF-Token": csrf})
    assert renewed.status_code == 200, renewed.text
    assert renewed.json()["csrf_token"] == csrf
    assert set(set_cookies(renewed)) == {"couture_access", "couture_refresh", "couture_csrf"}
    assert browser.cookies["couture_refresh"] != old_refresh
    assert (await browser.get("/api/v2/dags")).status_code == 200

    # The answer was lost (the tab reloaded mid-way): the used cookie comes back at once, from the
    # same browser. Within the grace that is a retry, not a theft: renewed again, session kept.
    browser.cookies.set("couture_refresh", old_refresh, path="/auth/refresh")
    retried = await browser.post("/auth/refresh", headers={"X-CSRF-Token": csrf})
    assert retried.status_code == 200, retried.text
    assert (await browser.get("/api/v2/dags")).status_code == 200


async def used_a_minute_ago(harness: Harness) -> tuple[IssuedTokens, IssuedTokens]:
    """A login whose refresh token was exchanged a minute ago: (the login's tokens, their successors)."""
    auth: AuthService = harness.app.state.gateway.auth
    past = utcnow() - timedelta(minutes=1)
    login = await auth.login("superadmin", "couture@123", now=past)
    return login, await auth.refresh(login.refresh_token, now=past + timedelta(seconds=1))


async def test_a_refresh_token_sent_again_after_the_grace_ends_its_session(harness: Harness) -> None:
    login, successor = await used_a_minute_ago(harness)
    newest = {"Authorization": f"Bearer {successor.access_token}"}
    assert (await harness.client.get("/api/v2/dags", headers=newest)).status_code == 200

    reused = await harness.client.post("/auth/refresh", json={"refresh_token": login.refresh_token})
    assert reused.status_code == 401
    assert reused.json()["detail"].startswith("Refresh token already used: the session is revoked")
    revoked = await harness.client.get("/api/v2/dags", headers=newest)
    assert revoked.json() == {"detail": "Token revoked (logged out)"}
    refused = await harness.client.post("/auth/refresh", json={"refresh_token": successor.refresh_token})
    assert refused.status_code == 401
    # Another login session of the same user is untouched.
    assert (await harness.get("/api/v2/dags")).status_code == 200


async def test_a_stolen_refresh_cookie_replayed_later_ends_the_session(
    browser: httpx.AsyncClient, harness: Harness
) -> None:
    login, successor = await used_a_minute_ago(harness)
    browser.cookies.set("couture_refresh", login.refresh_token, path="/auth/refresh")
    browser.cookies.set("couture_csrf", "chosen-by-thief")
    reused = await browser.post("/auth/refresh", headers={"X-CSRF-Token": "chosen-by-thief"})
    assert reused.status_code == 401
    victim = {"Authorization": f"Bearer {successor.access_token}"}
    assert (await harness.client.get("/api/v2/dags", headers=victim)).status_code == 401


async def test_an_api_client_refresh_rotates_its_refresh_token(harness: Harness) -> None:
    first = (await harness.client.post("/auth/token", json=CREDENTIALS)).json()
    second = await harness.client.post("/auth/refresh", json={"refresh_token": first["refresh_token"]})
    assert second.status_code == 200
    rotated = second.json()
    assert rotated["refresh_token"] != first["refresh_token"]
    third = await harness.client.post("/auth/refresh", json={"refresh_token": rotated["refresh_token"]})
    assert third.status_code == 200
    newest = {"Authorization": f"Bearer {third.json()['access_token']}"}
    assert (await harness.client.get("/api/v2/dags", headers=newest)).status_code == 200
    # Each exchanged refresh token was revoked (by its own jti), the session itself was not.
    assert len(await harness.logged(TokenRevoked)) == 2


@pytest.mark.parametrize(
    ("target", "location"),
    [
        ("/dags/etl/grid?run_id=r1", "/dags/etl/grid?run_id=r1"),
        ("//evil.example/", "/"),
        ("/\\evil.example", "/"),
        ("https://evil.example/", "/"),
        ("javascript:alert(1)", "/"),
        ("/\t/evil.example", "/"),
    ],
)
async def test_a_form_login_follows_next_only_within_the_site(
    browser: httpx.AsyncClient, target: str, location: str
) -> None:
    answer = await browser.post("/auth/login", data={**CREDENTIALS, "next": target})
    assert answer.status_code == 303
    assert answer.headers["location"] == location
    assert "couture_access" in browser.cookies
    json_login = await browser.post("/auth/login", json={**CREDENTIALS, "next": target})
    assert json_login.json()["next"] == location


async def test_a_failed_browser_login_sets_no_cookie_and_is_audited(
    browser: httpx.AsyncClient, harness: Harness
) -> None:
    answer = await browser.post("/auth/login", json={"username": "superadmin", "password": "nope"})
    assert answer.status_code == 401
    assert answer.headers.get_list("set-cookie") == []
    [audited] = [a for a in await harness.logged(AuditRecorded) if a.path == "/auth/login"]
    assert (audited.action, audited.path, audited.outcome, audited.username) == (
        "login",
        "/auth/login",
        "failed",
        "superadmin",
    )


async def test_another_site_cannot_sign_a_visitor_in_or_renew_their_session(
    browser: httpx.AsyncClient,
) -> None:
    evil = {"Origin": "https://evil.example"}
    forced = await browser.post("/auth/login", data=CREDENTIALS, headers=evil)
    assert forced.status_code == 403
    assert forced.json()["detail"].startswith("Cross-site request refused")
    assert forced.headers.get_list("set-cookie") == []

    csrf = await sign_in(browser)
    same_site = await browser.post(
        "/auth/refresh", headers={"X-CSRF-Token": csrf, "Origin": "http://127.0.0.1:8080"}
    )
    assert same_site.status_code == 200
    cross = await browser.post("/auth/refresh", headers={"X-CSRF-Token": csrf, **evil})
    assert cross.status_code == 403
