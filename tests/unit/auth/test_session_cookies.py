"""When session cookies are Secure, and their names."""

from __future__ import annotations

import pytest

from couture_auth.http import cookie_names, cookies_secure, is_loopback


@pytest.mark.parametrize(
    ("host", "loopback"),
    [
        ("localhost", True),
        ("LOCALHOST", True),
        ("app.localhost", True),
        ("127.0.0.1", True),
        ("127.8.9.10", True),
        ("[::1]", True),
        ("::1", True),
        ("10.0.0.5", False),
        ("couture.example", False),
        ("localhost.example", False),
        ("", False),
    ],
)
def test_loopback_hosts(host: str, loopback: bool) -> None:
    assert is_loopback(host) is loopback


@pytest.mark.parametrize(
    ("https", "host", "always", "secure"),
    [
        (True, "couture.example", False, True),
        (True, "127.0.0.1", False, True),
        # Plain http to another host still gets Secure cookies: the browser then refuses them,
        # which is the point (a session must not travel in clear over a network).
        (False, "couture.example", False, True),
        (False, "10.0.0.5", False, True),
        # Only plain-http loopback development goes without, unless the setting says otherwise.
        (False, "127.0.0.1", False, False),
        (False, "localhost", False, False),
        (False, "localhost", True, True),
    ],
)
def test_cookies_are_secure_except_on_plain_http_loopback(
    https: bool, host: str, always: bool, secure: bool
) -> None:
    assert cookies_secure(https=https, host=host, always=always) is secure


def test_secure_cookies_are_bound_to_this_origin_by_their_prefix() -> None:
    secure = cookie_names(True)
    assert secure.access.startswith("__Host-") and secure.csrf.startswith("__Host-")
    # The refresh cookie is scoped to /auth/refresh, which __Host- forbids.
    assert secure.refresh.startswith("__Secure-")
    plain = cookie_names(False)
    assert not any(name.startswith("__") for name in (plain.access, plain.refresh, plain.csrf))
