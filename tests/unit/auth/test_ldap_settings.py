"""LDAP settings from the COUTURE_AUTH_* settings, and the pure steps of an LDAP login."""

from __future__ import annotations

import dataclasses

import pytest

from couture_auth.domain.ldap import (
    LdapSettings,
    LdapSettingsError,
    config_event,
    ldap_settings_from_options,
    login_name,
    mapped_roles,
    settings_from_event,
    unknown_roles,
    user_filter,
)
from couture_common.settings import Settings

BASE = {
    "COUTURE_AUTH_TYPE": "AUTH_LDAP",
    "COUTURE_AUTH_LDAP_SERVER": "ldaps://ldap.example.com",
    "COUTURE_AUTH_LDAP_SEARCH": "ou=people,dc=example,dc=com",
}


def settings_from(monkeypatch: pytest.MonkeyPatch, env: dict[str, str]) -> LdapSettings:
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    return ldap_settings_from_options(Settings().ldap_options(), names_prefix="COUTURE_")


def test_every_option_of_the_manual_is_read_from_its_variable(monkeypatch: pytest.MonkeyPatch) -> None:
    manual = {
        "AUTH_TYPE", "AUTH_LDAP_SERVER", "AUTH_LDAP_SEARCH", "AUTH_LDAP_UID_FIELD", "AUTH_LDAP_BIND_USER",
        "AUTH_LDAP_BIND_PASSWORD", "AUTH_LDAP_ALLOW_SELF_SIGNED", "AUTH_LDAP_GROUP_SEARCH",
        "AUTH_LDAP_USE_TLS", "AUTH_LDAP_FIRSTNAME_FIELD", "AUTH_LDAP_EMAIL_FIELD",
        "AUTH_LDAP_LASTNAME_FIELD", "AUTH_USER_REGISTRATION", "AUTH_USER_REGISTRATION_ROLE",
        "AUTH_LDAP_TLS_DEMAND", "AUTH_LDAP_SEARCH_FILTER", "AUTH_LDAP_APPEND_DOMAIN",
        "AUTH_LDAP_USERNAME_FORMAT", "AUTH_LDAP_TLS_CACERTDIR", "AUTH_LDAP_TLS_CACERTFILE",
        "AUTH_LDAP_TLS_CERTFILE", "AUTH_LDAP_TLS_KEYFILE", "AUTH_ROLES_MAPPING",
    }  # fmt: skip
    assert {name.lower() for name in manual} <= set(Settings.model_fields)
    settings = settings_from(
        monkeypatch,
        {
            **BASE,
            "COUTURE_AUTH_LDAP_UID_FIELD": "sAMAccountName",
            "COUTURE_AUTH_LDAP_ALLOW_SELF_SIGNED": "True",
            "COUTURE_AUTH_LDAP_TLS_DEMAND": "false",
            "COUTURE_AUTH_USER_REGISTRATION": "yes",
            "COUTURE_AUTH_USER_REGISTRATION_ROLE": "Viewer",
            "COUTURE_AUTH_LDAP_LASTTNAME_FIELD": "surname",
            "COUTURE_AUTH_ROLES_MAPPING": '{"CN=Ops,OU=Groups,DC=example,DC=com": ["Op", "User"]}',
        },
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


def test_without_settings_logins_are_checked_against_the_database() -> None:
    assert not ldap_settings_from_options(Settings().ldap_options()).enabled


def test_the_bind_password_is_a_secret_apart_from_the_options(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("COUTURE_AUTH_LDAP_BIND_PASSWORD", "s3cret-bind")
    settings = Settings()
    assert settings.ldap_bind_password() == "s3cret-bind"
    assert "s3cret-bind" not in repr(settings) and "s3cret-bind" not in str(settings.ldap_options())


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        ({"COUTURE_AUTH_LDAP_USE_TLS": "true"}, "COUTURE_AUTH_LDAP_USE_TLS: must be false with an ldaps://"),
        ({"COUTURE_AUTH_LDAP_SERVER": "ldap.example.com"}, "COUTURE_AUTH_LDAP_SERVER: expected ldap://"),
        ({"COUTURE_AUTH_LDAP_SEARCH": ""}, "COUTURE_AUTH_LDAP_SEARCH: the base DN"),
        ({"COUTURE_AUTH_USER_REGISTRATION": "true"}, "COUTURE_AUTH_USER_REGISTRATION_ROLE: required"),
        (
            {"COUTURE_AUTH_LDAP_USERNAME_FORMAT": "format-"},
            "COUTURE_AUTH_LDAP_USERNAME_FORMAT: must contain %s",
        ),
        (
            {"COUTURE_AUTH_LDAP_SEARCH_FILTER": "memberOf=x"},
            "COUTURE_AUTH_LDAP_SEARCH_FILTER: must be a parenthesised",
        ),
    ],
)
def test_options_that_do_not_make_a_usable_whole_are_refused_naming_the_variable(
    monkeypatch: pytest.MonkeyPatch, extra: dict[str, str], message: str
) -> None:
    with pytest.raises(LdapSettingsError) as error:
        settings_from(monkeypatch, {**BASE, **extra})
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


def test_a_saved_configuration_reads_back_as_the_same_settings() -> None:
    settings = LdapSettings(
        auth_type="AUTH_LDAP",
        server="ldaps://ldap.example.com",
        search="ou=people,dc=ex",
        roles_mapping={"cn=ops,dc=ex": ("Op",)},
    )
    event = config_event(settings, "fernet-token")
    assert settings_from_event(event) == settings
    assert event.encrypted_bind_password == "fernet-token"


def test_roles_the_mapping_or_registration_names_must_exist() -> None:
    settings = LdapSettings(
        roles_mapping={"cn=a": ("Op", "Ghost")}, user_registration=True, user_registration_role="Nobody"
    )
    assert unknown_roles(settings, lambda name: name == "Op") == ["Ghost", "Nobody"]
    assert unknown_roles(dataclasses.replace(settings, user_registration=False), lambda n: n == "Op") == [
        "Ghost"
    ]
