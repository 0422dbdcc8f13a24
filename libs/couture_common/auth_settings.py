"""The login settings of :class:`couture_common.settings.Settings`: trusted proxies and the user's
manual's ``AUTH_*`` LDAP options, each a ``COUTURE_`` variable or a key of the TOML file.

They are only read and type-checked here; whether the LDAP options make a usable whole (an
``ldap://`` server, a base DN...) is the auth service's rule (``couture_auth.domain.ldap``), since
Admin → LDAP Configuration is judged by the same rule.
"""

from __future__ import annotations

import ipaddress
import json
from typing import Annotated, Any, Literal

from pydantic import Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, NoDecode

IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network

#: The settings named by the manual without the ``AUTH_LDAP_`` prefix (``AUTH_TYPE`` and
#: ``AUTH_USER_REGISTRATION*`` and ``AUTH_ROLES_MAPPING`` lose ``AUTH_`` only).
_LDAP_PREFIXES = ("auth_ldap_", "auth_")


def _trusted_proxies(value: Any) -> Any:
    """Comma-separated (environment) or a list (file) of addresses or CIDR networks."""
    items = value.split(",") if isinstance(value, str) else value
    if not isinstance(items, list | tuple):
        return value
    networks = []
    for item in items:
        text = str(item).strip()
        if not text:
            continue
        try:
            networks.append(ipaddress.ip_network(text, strict=False))
        except ValueError:
            raise ValueError(f"{text!r} is not an IP address or network") from None
    return tuple(networks)


class AuthSettings(BaseSettings):
    trusted_proxies: Annotated[tuple[IPNetwork, ...], NoDecode] = Field(
        default=(),
        description="Reverse proxies whose X-Forwarded-For is believed: IPs or CIDR networks.",
    )
    auth_type: Literal["AUTH_DB", "AUTH_LDAP"] = "AUTH_DB"
    auth_ldap_server: str = ""
    auth_ldap_search: str = ""
    auth_ldap_uid_field: str = "uid"
    auth_ldap_bind_user: str = ""
    auth_ldap_bind_password: SecretStr | None = Field(default=None, description="Never printed.")
    auth_ldap_allow_self_signed: bool = False
    auth_ldap_group_search: str = ""
    auth_ldap_use_tls: bool = False
    auth_ldap_firstname_field: str = "givenName"
    auth_ldap_lastname_field: str = "sn"
    #: The manual spells it AUTH_LDAP_LASTTNAME_FIELD; accepted for readers who copy it.
    auth_ldap_lasttname_field: str | None = None
    auth_ldap_email_field: str = "mail"
    auth_user_registration: bool = False
    auth_user_registration_role: str = ""
    auth_ldap_tls_demand: bool = True
    auth_ldap_search_filter: str = ""
    auth_ldap_append_domain: str = ""
    auth_ldap_username_format: str = ""
    auth_ldap_tls_cacertdir: str = ""
    auth_ldap_tls_cacertfile: str = ""
    auth_ldap_tls_certfile: str = ""
    auth_ldap_tls_keyfile: str = ""
    auth_roles_mapping: Annotated[dict[str, list[str]], NoDecode] = Field(
        default_factory=dict, description="LDAP group DN → the roles its members get (JSON)."
    )

    @field_validator("trusted_proxies", mode="before")
    @classmethod
    def _parse_trusted_proxies(cls, value: Any) -> Any:
        return _trusted_proxies(value)

    @field_validator("auth_roles_mapping", mode="before")
    @classmethod
    def _parse_roles_mapping(cls, value: Any) -> Any:
        if not isinstance(value, str):
            return value
        try:
            return json.loads(value) if value.strip() else {}
        except ValueError:
            raise ValueError("not JSON: expected an object of group DN to a list of role names") from None

    def ldap_options(self) -> dict[str, Any]:
        """The LDAP options under the manual's names, lowercased without ``AUTH_LDAP_`` (or
        ``AUTH_``): ``server``, ``search``, ``auth_type``, ``user_registration``... The bind password
        is not among them (``ldap_bind_password``)."""
        options = {option: getattr(self, name) for name, option in _LDAP_OPTIONS.items()}
        misspelt = self.auth_ldap_lasttname_field
        if misspelt is not None and "auth_ldap_lastname_field" not in self.model_fields_set:
            options["lastname_field"] = misspelt
        return options

    def ldap_bind_password(self) -> str:
        secret = self.auth_ldap_bind_password
        return secret.get_secret_value() if secret is not None else ""


def _option(name: str) -> str:
    if name == "auth_type":
        return name
    prefix = next(p for p in _LDAP_PREFIXES if name.startswith(p))
    return name.removeprefix(prefix)


#: Setting → LDAP option, for this class's own fields only (Settings adds others named auth_*).
_LDAP_OPTIONS = {
    name: _option(name)
    for name in AuthSettings.model_fields
    if name.startswith("auth_") and name not in ("auth_ldap_bind_password", "auth_ldap_lasttname_field")
}
