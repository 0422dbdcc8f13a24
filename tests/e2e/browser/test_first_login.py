"""The seeded superadmin must replace the manual's default password before using the UI."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.e2e.browser.conftest import Scenario, serving_ui
from tests.e2e.standalone import Standalone

DEFAULT_PASSWORD = "couture@123"


@pytest.fixture
def ui_standalone(tmp_path: Path) -> Iterator[Standalone]:
    """A first start where the operator set no COUTURE_ADMIN_PASSWORD: the manual's default applies."""
    with serving_ui(tmp_path / "home", unset_env=("COUTURE_ADMIN_PASSWORD",)) as server:
        yield server


def test_superadmin_chooses_a_new_password_at_first_login(
    ui_standalone: Standalone, scenario: Scenario
) -> None:
    seen = scenario(
        "first_login", COUTURE_FIRST_PASSWORD=DEFAULT_PASSWORD, COUTURE_NEW_PASSWORD="a-better-secret-1"
    )

    assert seen["oldPasswordError"] == "Invalid username or password"
    assert seen["consoleErrors"] == []
    # Refused until the password changes; then the old password is refused.
    assert {f for f in seen["failedRequests"] if not f.endswith(" 403")} == {"POST /auth/login 401"}
    answer = httpx.post(
        f"{ui_standalone.base_url}/auth/token",
        json={"username": "superadmin", "password": "a-better-secret-1"},
        timeout=10,
    )
    assert answer.status_code == 201
