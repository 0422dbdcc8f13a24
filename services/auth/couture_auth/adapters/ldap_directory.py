"""Checking a password against an LDAP directory with ldap3 (blocking: call it in a thread).

With a search account (``AUTH_LDAP_BIND_USER``): bind as it, find the user's entry with the escaped
filter, then bind as that entry's DN with the given password. Without one: bind as the login name
itself (Active Directory's ``user@domain``) and read the entry with that connection.
"""

from __future__ import annotations

import ssl
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from ldap3 import SUBTREE, Connection, Server, Tls
from ldap3.core.exceptions import LDAPException

from couture_auth.domain.ldap import LdapSettings, group_filter, login_name, user_filter

_TIMEOUT_SECONDS = 10


class LdapUnavailable(Exception):
    """The directory could not be reached or refused the search account: not the user's fault."""


@dataclass(frozen=True, slots=True)
class LdapAccount:
    dn: str
    email: str | None
    first_name: str | None
    last_name: str | None
    group_dns: tuple[str, ...]


def authenticate(
    settings: LdapSettings, bind_password: str, username: str, password: str
) -> LdapAccount | None:
    """The user's entry when ``password`` is theirs; None for an unknown user or a wrong password."""
    # An empty password would make a simple bind anonymous, which "succeeds".
    if not password or not username or "\x00" in username:
        return None
    server = _server(settings)
    name = login_name(settings, username)
    try:
        if settings.bind_user:
            with _bound(server, settings, settings.bind_user, bind_password) as search:
                if search is None:
                    raise LdapUnavailable("the search account (AUTH_LDAP_BIND_USER) was refused")
                entry = _find(search, settings, name)
                if entry is None:
                    return None
                with _bound(server, settings, entry.entry_dn, password) as own:
                    if own is None:
                        return None
                return _account(search, settings, entry, name)
        with _bound(server, settings, name, password) as own:
            if own is None:
                return None
            entry = _find(own, settings, name)
            return None if entry is None else _account(own, settings, entry, name)
    except LDAPException as error:
        raise LdapUnavailable(f"LDAP server {settings.server}: {type(error).__name__}") from None


def _server(settings: LdapSettings) -> Server:
    demand = settings.tls_demand or not settings.allow_self_signed
    tls = Tls(
        validate=ssl.CERT_REQUIRED if demand else ssl.CERT_NONE,
        ca_certs_file=settings.tls_cacertfile or None,
        ca_certs_path=settings.tls_cacertdir or None,
        local_certificate_file=settings.tls_certfile or None,
        local_private_key_file=settings.tls_keyfile or None,
        version=ssl.PROTOCOL_TLS_CLIENT,
    )
    return Server(
        settings.server,
        use_ssl=settings.server.startswith("ldaps://"),
        tls=tls,
        get_info="NO_INFO",
        connect_timeout=_TIMEOUT_SECONDS,
    )


@contextmanager
def _bound(server: Server, settings: LdapSettings, user: str, password: str) -> Iterator[Connection | None]:
    """A connection bound as ``user``, or None when the directory refuses the credentials."""
    connection = Connection(
        server, user=user, password=password, receive_timeout=_TIMEOUT_SECONDS, raise_exceptions=False
    )
    connection.open()
    try:
        if settings.use_tls and not connection.start_tls():
            raise LdapUnavailable("StartTLS (AUTH_LDAP_USE_TLS) failed")
        yield connection if connection.bind() else None
    finally:
        connection.unbind()


def _attributes(settings: LdapSettings) -> list[str]:
    return [settings.uid_field, settings.firstname_field, settings.lastname_field, settings.email_field]


def _find(connection: Connection, settings: LdapSettings, name: str) -> Any | None:
    connection.search(
        settings.search, user_filter(settings, name), SUBTREE, attributes=_attributes(settings), size_limit=2
    )
    # Two matches mean the uid field is not unique: refuse rather than pick one.
    return connection.entries[0] if len(connection.entries) == 1 else None


def _account(connection: Connection, settings: LdapSettings, entry: Any, name: str) -> LdapAccount:
    groups: tuple[str, ...] = ()
    if settings.group_search:
        connection.search(settings.group_search, group_filter(entry.entry_dn, name), SUBTREE, attributes=[])
        groups = tuple(e.entry_dn for e in connection.entries)
    return LdapAccount(
        dn=entry.entry_dn,
        email=_first(entry, settings.email_field),
        first_name=_first(entry, settings.firstname_field),
        last_name=_first(entry, settings.lastname_field),
        group_dns=groups,
    )


def _first(entry: Any, attribute: str) -> str | None:
    values = entry.entry_attributes_as_dict.get(attribute) or []
    return str(values[0]) if values else None
