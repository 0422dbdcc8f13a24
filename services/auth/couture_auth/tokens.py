"""JWT access tokens: RS256-signed with a key kept under ``HOME/data``, verified locally.

The issuer (auth) holds the private key; verifiers (the gateway) need only its public half, so
a verifier never has to call the auth service per request.
"""

from __future__ import annotations

import os
import tempfile
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

from joserfc import jwt
from joserfc.errors import JoseError
from joserfc.jwk import RSAKey
from joserfc.jwt import JWTClaimsRegistry

from couture_common.ids import uuid7

ALGORITHM = "RS256"
ISSUER = "couture"
DEFAULT_TTL = timedelta(hours=24)
DEFAULT_REFRESH_TTL = timedelta(days=7)
ACCESS = "access"
REFRESH = "refresh"


class InvalidTokenError(ValueError):
    """The token is malformed, not signed by our key, uses another algorithm, or has expired."""


@dataclass(frozen=True, slots=True)
class TokenClaims:
    subject: str
    roles: tuple[str, ...]
    issued_at: datetime
    expires_at: datetime
    #: The login session (``sid``) a logout revokes, shared by the access and refresh tokens of one
    #: login; None for tokens issued before tokens carried one.
    token_id: str | None = None


def load_or_create_signing_key(path: Path) -> RSAKey:
    """The private key in PEM at ``path``, created once with owner-only (0600) permissions.

    Written to a temporary file and linked into place, so services starting together on a shared
    home never read a half-written key: the first link wins and the others read its key.
    """
    if path.exists():
        return RSAKey.import_key(path.read_bytes())
    path.parent.mkdir(parents=True, exist_ok=True)
    key = RSAKey.generate_key(2048)
    fd, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(key.as_pem(private=True))
            fh.flush()
            os.fsync(fh.fileno())
        try:
            os.link(temporary, path)
        except FileExistsError:
            return RSAKey.import_key(path.read_bytes())
    finally:
        os.unlink(temporary)
    return key


class TokenIssuer:
    def __init__(
        self, key: RSAKey, *, ttl: timedelta = DEFAULT_TTL, refresh_ttl: timedelta = DEFAULT_REFRESH_TTL
    ) -> None:
        self._key = key
        self._ttl = ttl
        self._refresh_ttl = refresh_ttl

    def issue(
        self, subject: str, roles: tuple[str, ...], *, now: datetime, session_id: str | None = None
    ) -> str:
        """An access token; a new login session unless ``session_id`` continues one (a refresh)."""
        return self._encode(subject, now, self._ttl, ACCESS, session_id or str(uuid7()), roles=list(roles))

    def issue_refresh(self, subject: str, *, now: datetime, session_id: str) -> str:
        """A refresh token for the session: it buys new access tokens, and is refused as one."""
        return self._encode(subject, now, self._refresh_ttl, REFRESH, session_id)

    def _encode(
        self, subject: str, now: datetime, ttl: timedelta, use: str, session_id: str, **extra: object
    ) -> str:
        issued = int(now.timestamp())
        claims = {
            "iss": ISSUER,
            "sub": subject,
            "iat": issued,
            "nbf": issued,
            "exp": issued + int(ttl.total_seconds()),
            "jti": str(uuid7()),
            "sid": session_id,
            "token_use": use,
            **extra,
        }
        return jwt.encode({"alg": ALGORITHM, "typ": "JWT"}, claims, self._key, algorithms=[ALGORITHM])

    def verifier(self) -> TokenVerifier:
        return TokenVerifier(RSAKey.import_key(self._key.as_pem(private=False)))


class TokenVerifier:
    def __init__(self, public_key: RSAKey) -> None:
        self._key = public_key

    def verify(self, token: str, *, now: datetime, use: str = ACCESS) -> TokenClaims:
        """The claims of a valid token meant for ``use`` (an access token unless told otherwise)."""
        try:
            decoded = jwt.decode(token, self._key, algorithms=[ALGORITHM])
            registry = JWTClaimsRegistry(
                now=int(now.timestamp()),
                iss={"essential": True, "value": ISSUER},
                sub={"essential": True},
                exp={"essential": True},
                iat={"essential": True},
            )
            registry.validate(decoded.claims)
        except (JoseError, ValueError) as exc:
            raise InvalidTokenError(str(exc)) from None
        claims = decoded.claims
        # Tokens from before ``token_use`` existed were all access tokens.
        if claims.get("token_use", ACCESS) != use:
            raise InvalidTokenError(f"not an {use} token" if use == ACCESS else f"not a {use} token")
        roles = claims.get("roles", [])
        if not isinstance(roles, list) or not all(isinstance(r, str) for r in roles):
            raise InvalidTokenError("claim 'roles' must be a list of strings")
        tz = now.tzinfo
        return TokenClaims(
            subject=str(claims["sub"]),
            roles=tuple(roles),
            issued_at=datetime.fromtimestamp(int(claims["iat"]), tz),
            expires_at=datetime.fromtimestamp(int(claims["exp"]), tz),
            token_id=str(claims.get("sid") or claims.get("jti") or "") or None,
        )
