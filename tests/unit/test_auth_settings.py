"""Trusted proxies and the LDAP options are settings like any other: a ``COUTURE_`` variable or a key
of the ``COUTURE_CONFIG_FILE`` TOML file (the variable wins), and a bad value names the variable."""

from __future__ import annotations

import ipaddress
from pathlib import Path

import pytest

from couture_cli.main import main
from couture_common.settings import Settings


def test_trusted_proxies_are_addresses_and_networks_from_the_environment(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("COUTURE_TRUSTED_PROXIES", " 10.1.2.3/8, 192.168.1.5 ,2001:db8::/32,")
    assert Settings().trusted_proxies == (
        ipaddress.ip_network("10.0.0.0/8"),
        ipaddress.ip_network("192.168.1.5/32"),
        ipaddress.ip_network("2001:db8::/32"),
    )
    monkeypatch.delenv("COUTURE_TRUSTED_PROXIES")
    assert Settings().trusted_proxies == ()


def test_the_config_file_gives_ldap_options_and_proxies_and_the_environment_wins(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    config = tmp_path / "couture.toml"
    config.write_text(
        'trusted_proxies = ["172.16.0.0/12"]\n'
        'auth_type = "AUTH_LDAP"\n'
        'auth_ldap_server = "ldaps://ldap.example.com"\n'
        'auth_ldap_search = "ou=people,dc=example,dc=com"\n'
        "auth_ldap_allow_self_signed = true\n"
        '[auth_roles_mapping]\n"cn=ops,ou=groups,dc=example,dc=com" = ["Op"]\n'
    )
    monkeypatch.setenv("COUTURE_CONFIG_FILE", str(config))
    monkeypatch.setenv("COUTURE_AUTH_LDAP_SEARCH", "ou=staff,dc=example,dc=com")
    settings = Settings()
    assert settings.trusted_proxies == (ipaddress.ip_network("172.16.0.0/12"),)
    options = settings.ldap_options()
    assert options["auth_type"] == "AUTH_LDAP" and options["server"] == "ldaps://ldap.example.com"
    assert options["search"] == "ou=staff,dc=example,dc=com"
    assert options["allow_self_signed"] is True
    assert options["roles_mapping"] == {"cn=ops,ou=groups,dc=example,dc=com": ["Op"]}


@pytest.mark.parametrize(
    ("variable", "value", "message"),
    [
        ("COUTURE_TRUSTED_PROXIES", "10.0.0.1,proxy.local", "'proxy.local' is not an IP address or network"),
        ("COUTURE_AUTH_LDAP_USE_TLS", "maybe", "Input should be a valid boolean"),
        ("COUTURE_AUTH_ROLES_MAPPING", "{not json", "not JSON"),
        ("COUTURE_AUTH_ROLES_MAPPING", '["Op"]', "Input should be a valid dictionary"),
        ("COUTURE_AUTH_TYPE", "AUTH_OAUTH", "Input should be 'AUTH_DB' or 'AUTH_LDAP'"),
    ],
)
def test_a_bad_value_stops_the_command_naming_the_variable(
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    variable: str,
    value: str,
    message: str,
) -> None:
    monkeypatch.setenv(variable, value)
    assert main(["users", "list"]) == 2
    error = capsys.readouterr().err
    assert error.startswith(f"couture: error: invalid configuration: {variable}: ")
    assert message in error


def test_the_bind_password_is_never_shown_by_a_validation_error(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("COUTURE_AUTH_LDAP_BIND_PASSWORD", "s3cret-bind")
    monkeypatch.setenv("COUTURE_AUTH_LDAP_TLS_DEMAND", "sometimes")
    assert main(["users", "list"]) == 2
    assert "s3cret-bind" not in capsys.readouterr().err
