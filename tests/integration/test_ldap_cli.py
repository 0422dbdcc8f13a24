"""``couture ldap`` repairs the LDAP configuration while nobody can log in: real processes on the
event log a running gateway reads, and the real OpenLDAP (``deploy/local/ldap.sh up``).

With AUTH_LDAP on even the local superadmin logs in through LDAP, so a wrong server shuts every
door the Admin page is behind. The operator shows, disables and sets it from the command line;
the running gateway applies each change at the next login, without a restart.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import httpx
import pytest

from ..conftest import service_address
from .test_auth_lockout import FERNET_KEY, RIGHT, TOKEN_URL, gateway, home
from .test_cli import couture
from .test_gateway import signing_key_pem

__all__ = ["home", "signing_key_pem"]

ENV_BIND_PASSWORD = "env-bind-Secret-42"
#: What the operator set through COUTURE_AUTH_*: LDAP on, a server nobody listens on.
BROKEN = {
    "COUTURE_AUTH_TYPE": "AUTH_LDAP",
    "COUTURE_AUTH_LDAP_SERVER": "ldaps://127.0.0.1:9",
    "COUTURE_AUTH_LDAP_SEARCH": "ou=people,dc=couture,dc=test",
    "COUTURE_AUTH_LDAP_BIND_USER": "cn=search,ou=system,dc=couture,dc=test",
    "COUTURE_AUTH_LDAP_BIND_PASSWORD": ENV_BIND_PASSWORD,
}


@pytest.fixture
def env() -> dict[str, str]:
    """The same settings for the CLI processes as for the gateway."""
    return {**BROKEN, "COUTURE_FERNET_KEY": FERNET_KEY}


def broken_options() -> dict[str, str]:
    return {name.removeprefix("COUTURE_").lower(): value for name, value in BROKEN.items()}


async def login(client: httpx.AsyncClient, username: str, password: str) -> int:
    answer = await client.post(TOKEN_URL, json={"username": username, "password": password})
    return answer.status_code


def shown(home: Path, env: dict[str, str]) -> dict[str, object]:
    result = couture(home, "ldap", "show", "--json", env=env)
    assert result.returncode == 0, result.stderr
    assert ENV_BIND_PASSWORD not in result.stdout
    parsed: dict[str, object] = json.loads(result.stdout)
    return parsed


async def test_an_operator_shows_and_disables_a_broken_ldap_and_the_superadmin_logs_in_again(
    home: Path, env: dict[str, str]
) -> None:
    async with gateway(home, "gw", **broken_options()) as client:
        assert await login(client, "superadmin", "couture@123") == 503

        before = shown(home, env)
        assert before["auth_type"] == "AUTH_LDAP" and before["server"] == "ldaps://127.0.0.1:9"
        assert before["bind_password_set"] is True
        assert str(before["source"]).startswith("settings")
        table = couture(home, "ldap", "show", env=env)
        assert table.returncode == 0 and "ldaps://127.0.0.1:9" in table.stdout
        assert ENV_BIND_PASSWORD not in table.stdout + table.stderr

        disabled = couture(home, "ldap", "disable", env=env)
        assert disabled.returncode == 0, disabled.stderr
        assert "LDAP login disabled" in disabled.stdout
        assert await login(client, "superadmin", "couture@123") == 201

        after = shown(home, env)
        assert (after["auth_type"], after["source"]) == ("AUTH_DB", "event log")
        # The other options and the bind password are kept, ready to be mended and turned back on.
        assert after["server"] == "ldaps://127.0.0.1:9" and after["bind_password_set"] is True
    stored = (home / "data" / "events.db").read_bytes()
    assert ENV_BIND_PASSWORD.encode() not in stored


async def test_an_operator_sets_a_working_ldap_and_directory_users_log_in(
    home: Path, env: dict[str, str]
) -> None:
    service_address("COUTURE_LDAP_URL")
    base = os.environ["COUTURE_LDAP_BASE_DN"]
    bind_password = os.environ["COUTURE_LDAP_BIND_PASSWORD"]
    async with gateway(home, "gw", **broken_options()) as client:
        assert await login(client, "bob", "bob-Passw0rd") == 503
        mended = couture(
            home,
            "ldap",
            "set",
            "--server",
            service_address("COUTURE_LDAPS_URL"),
            "--search",
            f"ou=people,{base}",
            "--bind-user",
            os.environ["COUTURE_LDAP_BIND_DN"],
            "--bind-password-stdin",
            "--tls-cacertfile",
            os.environ["COUTURE_LDAP_CA_CERT"],
            "--user-registration",
            "true",
            "--user-registration-role",
            "Viewer",
            env=env,
            input=bind_password + "\n",
        )
        assert mended.returncode == 0, mended.stderr
        assert "LDAP login on" in mended.stdout
        assert await login(client, "bob", "bob-Passw0rd") == 201
        assert await login(client, "bob", "wrong") == 401
        # AUTH_LDAP is still on: the local superadmin is a directory login like everyone.
        assert (await client.post(TOKEN_URL, json=RIGHT)).status_code == 401
        assert shown(home, env)["tls_cacertfile"] == os.environ["COUTURE_LDAP_CA_CERT"]
    stored = (home / "data" / "events.db").read_bytes()
    assert bind_password.encode() not in stored


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("--server", "ldap.example.com"), "AUTH_LDAP_SERVER: expected ldap://"),
        (("--search-filter", "uid=x"), "AUTH_LDAP_SEARCH_FILTER: must be a parenthesised LDAP filter"),
        (("--roles-mapping", '{"cn=ops,dc=x": ["Nope"]}'), "roles: no role named Nope"),
        (("--use-tls", "maybe"), "--use-tls: expected true or false, got 'maybe'"),
        ((), "nothing to set"),
    ],
)
def test_a_bad_option_is_refused_naming_it_and_nothing_is_saved(
    home: Path, env: dict[str, str], args: tuple[str, ...], message: str
) -> None:
    refused = couture(home, "ldap", "set", *args, env=env)
    assert refused.returncode == 2
    assert message in refused.stderr
    assert shown(home, env)["source"] != "event log"


def test_an_empty_bind_password_on_standard_input_is_refused(home: Path, env: dict[str, str]) -> None:
    refused = couture(home, "ldap", "set", "--bind-password-stdin", env=env, input="\n")
    assert refused.returncode == 2
    assert "standard input gave an empty password" in refused.stderr
