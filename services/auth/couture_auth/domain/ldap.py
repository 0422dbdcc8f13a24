"""LDAP login settings (every ``AUTH_LDAP_*`` option of the user's manual) and the pure steps of a
login: the name to look up, the escaped search filters, and the roles a user's groups map to.

Settings come from ``COUTURE_AUTH_*`` environment variables (``ldap_settings_from_env``) or from
Admin → LDAP Configuration (an ``LdapConfigSet`` event), the latter winning once set.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, fields

from ldap3.utils.conv import escape_filter_chars

from couture_common.events import LdapConfigSet

AUTH_DB = "AUTH_DB"
AUTH_LDAP = "AUTH_LDAP"
#: Stored as the password hash of users who log in through LDAP: it never verifies locally.
LDAP_PASSWORD_HASH = "!ldap"
ENV_PREFIX = "COUTURE_"


@dataclass(frozen=True, slots=True)
class LdapSettings:
    """The manual's options under their manual names, lowercased, without ``AUTH_LDAP_``."""

    auth_type: str = AUTH_DB
    server: str = ""
    search: str = ""
    uid_field: str = "uid"
    bind_user: str = ""
    allow_self_signed: bool = False
    group_search: str = ""
    use_tls: bool = False
    firstname_field: str = "givenName"
    lastname_field: str = "sn"
    email_field: str = "mail"
    user_registration: bool = False
    user_registration_role: str = ""
    tls_demand: bool = True
    search_filter: str = ""
    append_domain: str = ""
    username_format: str = ""
    tls_cacertdir: str = ""
    tls_cacertfile: str = ""
    tls_certfile: str = ""
    tls_keyfile: str = ""
    #: Group DN → roles its members get (Flask-AppBuilder's ``AUTH_ROLES_MAPPING``).
    roles_mapping: Mapping[str, tuple[str, ...]] = field(default_factory=dict)

    @property
    def enabled(self) -> bool:
        return self.auth_type == AUTH_LDAP


#: Environment variable of each setting: ``COUTURE_AUTH_TYPE``, ``COUTURE_AUTH_LDAP_SERVER``...
ENV_NAMES: dict[str, str] = {
    f.name: (
        "AUTH_TYPE"
        if f.name == "auth_type"
        else "AUTH_ROLES_MAPPING"
        if f.name == "roles_mapping"
        else f"AUTH_{f.name.upper()}"
        if f.name.startswith("user_registration")
        else f"AUTH_LDAP_{f.name.upper()}"
    )
    for f in fields(LdapSettings)
}
BIND_PASSWORD_ENV = f"{ENV_PREFIX}AUTH_LDAP_BIND_PASSWORD"
_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off", ""}


class LdapSettingsError(ValueError):
    """A setting has a value it cannot have; the message names the setting."""


def ldap_settings_from_env(env: Mapping[str, str]) -> LdapSettings:
    values: dict[str, object] = {}
    for f in fields(LdapSettings):
        name = ENV_PREFIX + ENV_NAMES[f.name]
        raw = env.get(name)
        if raw is None and f.name == "lastname_field":
            # The manual spells it AUTH_LDAP_LASTTNAME_FIELD; accept what readers copy from it.
            raw = env.get(f"{ENV_PREFIX}AUTH_LDAP_LASTTNAME_FIELD")
        if raw is None:
            continue
        if f.type == "bool":
            values[f.name] = _boolean(name, raw)
        elif f.name == "roles_mapping":
            values[f.name] = parse_roles_mapping(name, raw)
        else:
            values[f.name] = raw.strip()
    return validated(LdapSettings(**values))  # type: ignore[arg-type]


def _boolean(name: str, raw: str) -> bool:
    lowered = raw.strip().lower()
    if lowered in _TRUE:
        return True
    if lowered in _FALSE:
        return False
    raise LdapSettingsError(f"{name}: expected true or false, got {raw!r}")


def parse_roles_mapping(name: str, raw: str) -> dict[str, tuple[str, ...]]:
    """``{"cn=ops,ou=groups,dc=example,dc=com": ["Op"]}`` as JSON."""
    try:
        parsed = json.loads(raw) if raw.strip() else {}
    except ValueError:
        raise LdapSettingsError(f"{name}: not JSON") from None
    if not isinstance(parsed, dict) or not all(
        isinstance(roles, list) and all(isinstance(r, str) for r in roles) for roles in parsed.values()
    ):
        raise LdapSettingsError(f"{name}: expected an object of group DN to a list of role names")
    return {dn.lower(): tuple(roles) for dn, roles in parsed.items()}


def validated(settings: LdapSettings) -> LdapSettings:
    """``settings`` if they are usable; an :class:`LdapSettingsError` naming the first bad one."""
    if settings.auth_type not in (AUTH_DB, AUTH_LDAP):
        raise LdapSettingsError(f"AUTH_TYPE: expected {AUTH_DB} or {AUTH_LDAP}, got {settings.auth_type!r}")
    if not settings.enabled:
        return settings
    if not settings.server.startswith(("ldap://", "ldaps://")):
        raise LdapSettingsError("AUTH_LDAP_SERVER: expected ldap://host[:port] or ldaps://host[:port]")
    if settings.use_tls and settings.server.startswith("ldaps://"):
        raise LdapSettingsError("AUTH_LDAP_USE_TLS: must be false with an ldaps:// AUTH_LDAP_SERVER")
    if not settings.search:
        raise LdapSettingsError("AUTH_LDAP_SEARCH: the base DN to search users in is required")
    if not settings.uid_field:
        raise LdapSettingsError("AUTH_LDAP_UID_FIELD: required")
    if settings.user_registration and not settings.user_registration_role:
        raise LdapSettingsError("AUTH_USER_REGISTRATION_ROLE: required when AUTH_USER_REGISTRATION is true")
    if settings.username_format and settings.username_format.count("%s") != 1:
        raise LdapSettingsError("AUTH_LDAP_USERNAME_FORMAT: must contain %s exactly once")
    if settings.search_filter and not (
        settings.search_filter.startswith("(") and settings.search_filter.endswith(")")
    ):
        raise LdapSettingsError("AUTH_LDAP_SEARCH_FILTER: must be a parenthesised LDAP filter")
    if bool(settings.tls_certfile) != bool(settings.tls_keyfile):
        raise LdapSettingsError("AUTH_LDAP_TLS_CERTFILE and AUTH_LDAP_TLS_KEYFILE: set both or neither")
    return settings


def settings_from_event(event: LdapConfigSet) -> LdapSettings:
    return LdapSettings(**{f.name: getattr(event, f.name) for f in fields(LdapSettings)})


def login_name(settings: LdapSettings, username: str) -> str:
    """The name LDAP knows the user by: ``AUTH_LDAP_USERNAME_FORMAT``, then ``AUTH_LDAP_APPEND_DOMAIN``."""
    name = settings.username_format.replace("%s", username) if settings.username_format else username
    return f"{name}@{settings.append_domain}" if settings.append_domain else name


def user_filter(settings: LdapSettings, name: str) -> str:
    """The filter finding the user; ``name`` is escaped, so it can only ever match a value."""
    match = f"({settings.uid_field}={escape_filter_chars(name)})"
    return f"(&{settings.search_filter}{match})" if settings.search_filter else match


def group_filter(user_dn: str, uid: str) -> str:
    """Groups listing the user as a member, by DN (groupOfNames, groupOfUniqueNames) or uid (posixGroup)."""
    dn, name = escape_filter_chars(user_dn), escape_filter_chars(uid)
    return f"(|(member={dn})(uniqueMember={dn})(memberUid={name}))"


def mapped_roles(settings: LdapSettings, group_dns: Iterable[str]) -> tuple[str, ...]:
    """The roles the user's groups map to, in mapping order, each once."""
    groups = {dn.lower() for dn in group_dns}
    roles = [role for dn, mapped in settings.roles_mapping.items() if dn in groups for role in mapped]
    return tuple(dict.fromkeys(roles))
