"""LDAP login settings (every ``AUTH_LDAP_*`` option of the user's manual) and the pure steps of a
login: the name to look up, the escaped search filters, and the roles a user's groups map to.

Settings come from the ``COUTURE_AUTH_*`` settings (read by ``couture_common.settings``, given here
as plain options) or from Admin → LDAP Configuration (an ``LdapConfigSet`` event), the latter
winning once set.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field, fields
from typing import Any

from ldap3.utils.conv import escape_filter_chars

from couture_common.events import LdapConfigSet

AUTH_DB = "AUTH_DB"
AUTH_LDAP = "AUTH_LDAP"
#: Stored as the password hash of users who log in through LDAP: it never verifies locally.
LDAP_PASSWORD_HASH = "!ldap"


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


class LdapSettingsError(ValueError):
    """A setting has a value it cannot have; the message names the setting."""


def ldap_settings_from_options(options: Mapping[str, Any], *, names_prefix: str = "") -> LdapSettings:
    """The settings from the manual's options by their ``LdapSettings`` names, as
    ``Settings.ldap_options()`` gives them, checked by :func:`validated`; an error names the setting
    with ``names_prefix`` in front (``COUTURE_``: the variable the operator set)."""
    values: dict[str, Any] = {k: v.strip() if isinstance(v, str) else v for k, v in options.items()}
    mapping: Mapping[str, Iterable[str]] = values.get("roles_mapping") or {}
    values["roles_mapping"] = {dn.lower(): tuple(roles) for dn, roles in mapping.items()}
    try:
        return validated(LdapSettings(**values))
    except LdapSettingsError as error:
        raise LdapSettingsError(f"{names_prefix}{error}") from None


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


def config_event(settings: LdapSettings, encrypted_bind_password: str | None) -> LdapConfigSet:
    """The event that makes ``settings`` the configuration in force (Admin page or ``couture ldap``)."""
    values = {f.name: getattr(settings, f.name) for f in fields(LdapSettings) if f.name != "roles_mapping"}
    mapping = {dn: tuple(roles) for dn, roles in settings.roles_mapping.items()}
    return LdapConfigSet(**values, roles_mapping=mapping, encrypted_bind_password=encrypted_bind_password)


def unknown_roles(settings: LdapSettings, is_role: Callable[[str], bool]) -> list[str]:
    """Roles the group mapping or user registration names that ``is_role`` does not know."""
    named = [role for roles in settings.roles_mapping.values() for role in roles]
    if settings.user_registration:
        named.append(settings.user_registration_role)
    return sorted({role for role in named if not is_role(role)})


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
