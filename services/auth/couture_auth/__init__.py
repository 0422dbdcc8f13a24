"""Couture auth: users as events on the ``auth`` topic, argon2 passwords, RS256 access tokens."""

from couture_auth.service import AuthenticationFailed, AuthService, LoginThrottled, LoginUnavailable
from couture_auth.tokens import InvalidTokenError, TokenClaims, TokenIssuer, TokenVerifier

__all__ = [
    "AuthService",
    "AuthenticationFailed",
    "InvalidTokenError",
    "LoginThrottled",
    "LoginUnavailable",
    "TokenClaims",
    "TokenIssuer",
    "TokenVerifier",
]
