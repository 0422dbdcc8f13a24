"""The one check every process makes of a verified token: is its session still on, and who is it now.

A signature only proves the auth service issued the token; the session may have logged out since,
and the user may have been deactivated or given other roles. Gateways, the registry and the auth
service itself all judge that here, against the directory they fold from the ``auth`` topic.
"""

from __future__ import annotations

from couture_auth.domain.permissions import Principal
from couture_auth.domain.users import UserDirectory
from couture_auth.tokens import TokenClaims


class SessionRefused(Exception):
    """The token is genuine but no longer good: logged out, or its user is gone or deactivated."""


def current_principal(directory: UserDirectory, claims: TokenClaims) -> Principal:
    """The token's user with the roles they hold now; :class:`SessionRefused` when it is no longer good."""
    if directory.is_revoked(claims.token_id):
        raise SessionRefused("Token revoked (logged out)")
    principal = directory.principal(claims.subject)
    if principal is None:
        raise SessionRefused(f"User `{claims.subject}` no longer exists or is deactivated")
    return principal
