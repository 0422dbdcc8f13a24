"""Browser sessions: HttpOnly cookies, transparent renewal, and no open redirect through ``next=``."""

from __future__ import annotations

from tests.e2e.browser.conftest import Scenario
from tests.e2e.standalone import Standalone


def test_the_session_is_in_httponly_cookies_renews_itself_and_next_stays_on_the_site(
    ui_standalone: Standalone, scenario: Scenario
) -> None:
    seen = scenario("login_session")

    assert seen["loginUrl"] == "/login?next=%2Fadmin%2Fvariables"
    assert seen["afterLogin"] == "/admin/variables"
    assert seen["cookies"] == [
        {"name": "couture_access", "httpOnly": True, "sameSite": "Strict", "path": "/"},
        {"name": "couture_csrf", "httpOnly": False, "sameSite": "Strict", "path": "/"},
        {"name": "couture_refresh", "httpOnly": True, "sameSite": "Strict", "path": "/auth/refresh"},
    ]
    # Scripts see the CSRF token only; no token is stored anywhere a script could read it.
    assert (
        seen["scriptSeesCookies"].startswith("couture_csrf=")
        or "; couture_csrf=" in seen["scriptSeesCookies"]
    )
    assert "couture_access" not in seen["scriptSeesCookies"]
    assert not any(value.startswith("eyJ") or ".eyJ" in value for value in seen["storedValues"])

    assert seen["renewStatus"] == 200
    assert seen["stillSignedIn"] and seen["renewedAccess"]
    # Two tabs renewing at once: none was refused (a refused renewal would sign the tab out).
    assert 401 not in seen["twoTabRefreshes"]
    # The lapsed call was refused once, renewed, and sent again.
    assert "POST /auth/refresh 401" not in seen["failedRequests"]
    assert [f for f in seen["failedRequests"] if not f.endswith(" 401")] == []
    assert seen["cookiesAfterLogout"] == []

    assert seen["afterEvilNext"] == f"{ui_standalone.base_url}/dags"
    assert seen["refusedAfterInterruptedLogout"] == []
    assert seen["consoleErrors"] == []
