"""LDAP settings from COUTURE_AUTH_* variables, and the pure steps of an LDAP login."""

from __future__ import annotations

import dataclasses

import pytest

from couture_auth.domain.ldap import (
    ENV_NAMES,
    LdapSettings,
    LdapSettingsError,
    ldap_settings_from_env,
    login_name,
    mapped_roles,
    user_filter,
)

BASE = {
    "COUTURE_AUTH_TYPE": "AUTH_LDAP",
    "COUTURE_AUTH_LDAP_SERVER": "ldaps://ldap.example.com",
    "COUTURE_AUTH_LDAP_SEARCH": "ou=people,dc=example,dc=com",
}


def test_every_option_of_the_manual_is_read_from_its_variable() -> None:
    manual = {
        "AUTH_TYPE", "AUTH_LDAP_SERVER", "AUTH_LDAP_SEARCH", "AUTH_LDAP_UID_FIELD", "AUTH_LDAP_BIND_USER",
        "AUTH_LDAP_ALLOW_SELF_SIGNED", "AUTH_LDAP_GROUP_SEARCH", "AUTH_LDAP_USE_TLS",
        "AUTH_LDAP_FIRSTNAME_FIELD", "AUTH_LDAP_EMAIL_FIELD", "AUTH_LDAP_LASTNAME_FIELD",
        "AUTH_USER_REGISTRATION", "AUTH_USER_REGISTRATION_ROLE", "AUTH_LDAP_TLS_DEMAND",
        "AUTH_LDAP_SEARCH_FILTER", "AUTH_LDAP_APPEND_DOMAIN", "AUTH_LDAP_USERNAME_FORMAT",
        "AUTH_LDAP_TLS_CACERTDIR", "AUTH_LDAP_TLS_CACERTFILE", "AUTH_LDAP_TLS_CERTFILE",
        "AUTH_LDAP_TLS_KEYFILE",
    }  # fmt: skip
    # The bind password is read apart (COUTURE_AUTH_LDAP_BIND_PASSWORD): it is a secret.
    assert manual <= set(ENV_NAMES.values())
    settings = ldap_settings_from_env(
        {
            **BASE,
            "COUTURE_AUTH_LDAP_UID_FIELD": "sAMAccountName",
            "COUTURE_AUTH_LDAP_ALLOW_SELF_SIGNED": "True",
            "COUTURE_AUTH_LDAP_TLS_DEMAND": "false",
            "COUTURE_AUTH_USER_REGISTRATION": "yes",
            "COUTURE_AUTH_USER_REGISTRATION_ROLE": "Viewer",
            "COUTURE_AUTH_LDAP_LASTTNAME_FIELD": "surname",
            "COUTURE_AUTH_ROLES_MAPPING": '{"CN=Ops,OU=Groups,DC=example,DC=com": ["Op", "User"]}',
        }
    )
    assert settings.enabled
    assert (settings.uid_field, settings.allow_self_signed, settings.tls_demand) == (
        "sAMAccountName",
        True,
        False,
    )
    assert (settings.user_registration, settings.user_registration_role) == (True, "Viewer")
    assert settings.lastname_field == "surname"
    assert settings.roles_mapping == {"cn=ops,ou=groups,dc=example,dc=com": ("Op", "User")}
    assert not ldap_settings_from_env({}).enabled


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        ({"COUTURE_AUTH_LDAP_USE_TLS": "maybe"}, "COUTURE_AUTH_LDAP_USE_TLS: expected true or false"),
        ({"COUTURE_AUTH_LDAP_USE_TLS": "true"}, "AUTH_LDAP_USE_TLS: must be false with an ldaps://"),
        ({"COUTURE_AUTH_LDAP_SERVER": "ldap.example.com"}, "AUTH_LDAP_SERVER: expected ldap://"),
        ({"COUTURE_AUTH_LDAP_SEARCH": ""}, "AUTH_LDAP_SEARCH: the base DN"),
        ({"COUTURE_AUTH_USER_REGISTRATION": "true"}, "AUTH_USER_REGISTRATION_ROLE: required"),
        ({"COUTURE_AUTH_LDAP_USERNAME_FORMAT": "format-"}, "AUTH_LDAP_USERNAME_FORMAT: must contain %s"),
        (
            {"COUTURE_AUTH_LDAP_SEARCH_FILTER": "memberOf=x"},
            "AUTH_LDAP_SEARCH_FILTER: must be a parenthesised",
        ),
        ({"COUTURE_AUTH_ROLES_MAPPING": '["Op"]'}, "COUTURE_AUTH_ROLES_MAPPING: expected an object"),
        ({"COUTURE_AUTH_TYPE": "AUTH_OAUTH"}, "AUTH_TYPE: expected AUTH_DB or AUTH_LDAP"),
    ],
)
def test_a_bad_setting_is_refused_naming_it(extra: dict[str, str], message: str) -> None:
    with pytest.raises(LdapSettingsError) as error:
        ldap_settings_from_env({**BASE, **extra})
    assert str(error.value).startswith(message)


def test_the_login_name_applies_the_username_format_then_the_domain() -> None:
    settings = LdapSettings(auth_type="AUTH_LDAP", username_format="format-%s", append_domain="domain.local")
    assert login_name(settings, "userexample") == "format-userexample@domain.local"
    assert login_name(LdapSettings(), "john") == "john"


def test_user_input_can_only_match_a_value_in_the_search_filter() -> None:
    settings = LdapSettings(uid_field="uid", search_filter="(memberOf=cn=team,ou=groups,dc=ex,dc=com)")
    assert user_filter(settings, "ana") == "(&(memberOf=cn=team,ou=groups,dc=ex,dc=com)(uid=ana))"
    injected = user_filter(dataclasses.replace(settings, search_filter=""), "*)(|(uid=*")
    assert injected == r"(uid=\2a\29\28|\28uid=\2a)"
    assert "*" not in user_filter(settings, "*")


def test_groups_map_to_roles_case_insensitively_each_role_once() -> None:
    settings = LdapSettings(roles_mapping={"cn=ops,dc=ex": ("Op",), "cn=all,dc=ex": ("Viewer", "Op")})
    assert mapped_roles(settings, ["CN=Ops,DC=ex", "cn=all,dc=ex"]) == ("Op", "Viewer")
    assert mapped_roles(settings, ["cn=other,dc=ex"]) == ()
