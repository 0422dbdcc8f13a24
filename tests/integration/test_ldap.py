"""LDAP login through the gateway against a real OpenLDAP with TLS (``deploy/local/ldap.sh up``).

The directory: alice (staff, in cn=ops), bob (staff), carol (contractor, in cn=ops); passwords
``<uid>-Passw0rd``. Configured as an admin would, through Admin → LDAP Configuration.
"""

from __future__ import annotations

import os
from typing import Any

import pytest

from couture_common.events import LdapConfigSet, UserCreated

from ..conftest import service_address
from .test_gateway import Harness, harness, signing_key_pem

__all__ = ["harness", "signing_key_pem"]

OPS_GROUP = "cn=ops,ou=groups,dc=couture,dc=test"


@pytest.fixture
def ldap_config() -> dict[str, Any]:
    """Admin → LDAP Configuration for the test directory over ldaps://, CA-verified."""
    service_address("COUTURE_LDAP_URL")
    base = os.environ["COUTURE_LDAP_BASE_DN"]
    return {
        "auth_type": "AUTH_LDAP",
        "server": service_address("COUTURE_LDAPS_URL"),
        "search": f"ou=people,{base}",
        "uid_field": "uid",
        "bind_user": os.environ["COUTURE_LDAP_BIND_DN"],
        "bind_password": os.environ["COUTURE_LDAP_BIND_PASSWORD"],
        "tls_cacertfile": os.environ["COUTURE_LDAP_CA_CERT"],
        "group_search": f"ou=groups,{base}",
        "search_filter": "(employeeType=staff)",
        "user_registration": True,
        "user_registration_role": "Viewer",
        "roles_mapping": {OPS_GROUP: ["Op"]},
    }


async def configure(harness: Harness, config: dict[str, Any]) -> None:
    answer = await harness.request("PUT", "/api/couture/security/ldap", json=config)
    assert answer.status_code == 200, answer.text


async def login(harness: Harness, username: str, password: str) -> int:
    answer = await harness.client.post("/auth/token", json={"username": username, "password": password})
    return answer.status_code


async def test_first_login_registers_the_user_with_roles_from_groups_or_the_registration_role(
    harness: Harness, ldap_config: dict[str, Any]
) -> None:
    await configure(harness, ldap_config)
    assert await login(harness, "alice", "alice-Passw0rd") == 201
    assert await login(harness, "bob", "bob-Passw0rd") == 201
    users = {u["username"]: u for u in (await harness.get("/api/couture/security/users")).json()["users"]}
    assert users["alice"]["roles"] == ["Op"]
    assert (users["alice"]["email"], users["alice"]["first_name"]) == ("alice@couture.test", "Alice")
    assert users["bob"]["roles"] == ["Viewer"]
    assert len(await harness.logged(UserCreated)) == 3
    assert await login(harness, "alice", "alice-Passw0rd") == 201
    assert len(await harness.logged(UserCreated)) == 3


async def test_wrong_password_filtered_out_user_and_local_accounts_are_refused(
    harness: Harness, ldap_config: dict[str, Any]
) -> None:
    await configure(harness, ldap_config)
    assert await login(harness, "alice", "not-her-password") == 401
    # carol's password is right, but the search filter admits staff only.
    assert await login(harness, "carol", "carol-Passw0rd") == 401
    # With AUTH_LDAP only directory users log in (the manual's rule), the local superadmin too.
    assert await login(harness, "superadmin", "couture@123") == 401


async def test_an_ldap_injection_in_the_username_matches_nobody(
    harness: Harness, ldap_config: dict[str, Any]
) -> None:
    await configure(harness, {**ldap_config, "search_filter": ""})
    for username in ("*", "bob)(uid=*", "*)(|(uid=*", "b*", "bob)(|(employeeType=*)"):
        assert await login(harness, username, "bob-Passw0rd") == 401, username
    assert await login(harness, "bob", "bob-Passw0rd") == 201


async def test_starttls_on_the_plain_port_works_and_an_unverified_server_is_refused(
    harness: Harness, ldap_config: dict[str, Any]
) -> None:
    starttls = {**ldap_config, "server": os.environ["COUTURE_LDAP_URL"], "use_tls": True}
    await configure(harness, starttls)
    assert await login(harness, "bob", "bob-Passw0rd") == 201

    # Without our CA the self-signed chain cannot be verified: no login, and no password sent.
    await configure(harness, {**ldap_config, "tls_cacertfile": ""})
    answer = await harness.client.post("/auth/token", json={"username": "bob", "password": "bob-Passw0rd"})
    assert answer.status_code == 503
    assert answer.json() == {"detail": "The LDAP server cannot be reached; try again later"}


async def test_without_registration_an_unknown_directory_user_cannot_log_in(
    harness: Harness, ldap_config: dict[str, Any]
) -> None:
    await configure(harness, {**ldap_config, "user_registration": False})
    assert await login(harness, "bob", "bob-Passw0rd") == 401


async def test_the_bind_password_is_stored_encrypted_and_never_shown(
    harness: Harness, ldap_config: dict[str, Any]
) -> None:
    await configure(harness, ldap_config)
    shown = (await harness.get("/api/couture/security/ldap")).json()
    assert shown["bind_password_set"] is True and shown["source"] == "admin"
    assert "bind_password" not in shown
    [stored] = await harness.logged(LdapConfigSet)
    assert stored.encrypted_bind_password is not None
    assert ldap_config["bind_password"] not in repr(stored)
    assert harness.settings.secret_box.decrypt(stored.encrypted_bind_password) == ldap_config["bind_password"]

    # Saving again without a bind password keeps the stored one.
    await configure(harness, {k: v for k, v in ldap_config.items() if k != "bind_password"})
    assert await login(harness, "bob", "bob-Passw0rd") == 201


async def test_a_bad_configuration_is_refused_naming_the_option(
    harness: Harness, ldap_config: dict[str, Any]
) -> None:
    answer = await harness.request("PUT", "/api/couture/security/ldap", json={**ldap_config, "use_tls": True})
    assert answer.status_code == 400
    assert answer.json()["detail"].startswith("AUTH_LDAP_USE_TLS: must be false")
    unknown = await harness.request(
        "PUT", "/api/couture/security/ldap", json={**ldap_config, "user_registration_role": "Nobody"}
    )
    assert unknown.json() == {"detail": "roles: no role named Nobody"}
