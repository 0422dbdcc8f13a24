"""JWT access and refresh tokens: RS256-signed with a key kept under ``HOME/data``, verified locally.

The issuer (auth) holds the private key and publishes its public half as a JWKS; every token names
its key in the ``kid`` header (the key's RFC 7638 thumbprint). Verifiers (gateways, the registry)
pick the key by ``kid`` from a :class:`KeySource`, so they never call the auth service per request,
and a key they do not know yet (a rotation) makes them fetch the JWKS again once.
"""

from __future__ import annotations

import base64
import json
import os
import tempfile
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any, Protocol

from joserfc import jwt
from joserfc.errors import ExpiredTokenError, InvalidKeyIdError, JoseError
from joserfc.jwk import Key, KeySet, RSAKey
from joserfc.jwt import JWTClaimsRegistry

from couture_common.ids import uuid7

ALGORITHM = "RS256"
ISSUER = "couture"
#: Access tokens are short-lived: a stolen one is useful for minutes; the refresh token renews it.
DEFAULT_TTL = timedelta(minutes=15)
DEFAULT_REFRESH_TTL = timedelta(days=7)
ACCESS = "access"
REFRESH = "refresh"
#: Clocks of the issuing and the verifying machine may differ this much: a token stamped a moment
#: "in the future" by a clock slightly ahead is not refused, nor one a moment past ``exp``.
CLOCK_SKEW = timedelta(seconds=5)


class InvalidTokenError(ValueError):
    """The token is malformed, not signed by our key, uses another algorithm, or has expired."""


class TokenExpiredError(InvalidTokenError):
    """A genuine token past its ``exp``: a browser session renews it with its refresh token."""


class UnknownKeyError(InvalidTokenError):
    """The token names (``kid``) a key the verifier does not hold."""


class KeysUnavailable(Exception):
    """The auth service's JWKS could not be fetched: tokens cannot be judged right now."""


@dataclass(frozen=True, slots=True)
class TokenClaims:
    subject: str
    roles: tuple[str, ...]
    issued_at: datetime
    expires_at: datetime
    #: The login session (``sid``) a logout revokes, shared by the access and refresh tokens of one
    #: login; None for tokens issued before tokens carried one.
    token_id: str | None = None
    #: This very token (``jti``): a refresh token is revoked by it once used (rotation).
    jti: str | None = None


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


def key_id(key: RSAKey) -> str:
    """The key's RFC 7638 thumbprint: the same key gets the same ``kid`` in every process."""
    return key.thumbprint()


def public_jwks(keys: Iterable[RSAKey]) -> dict[str, Any]:
    """The public halves of ``keys`` as a JWKS document (``{"keys": [...]}``)."""
    return {
        "keys": [
            {**key.as_dict(private=False), "kid": key_id(key), "use": "sig", "alg": ALGORITHM} for key in keys
        ]
    }


def key_set(document: Mapping[str, Any]) -> KeySet:
    """The RSA signing keys of a JWKS document; ValueError naming what is wrong with it."""
    entries = document.get("keys")
    if not isinstance(entries, list) or not entries:
        raise ValueError("JWKS: 'keys' must be a non-empty list")
    keys: list[Key] = []
    for index, entry in enumerate(entries):
        if not isinstance(entry, dict) or entry.get("kty") != "RSA" or not entry.get("kid"):
            raise ValueError(f"JWKS: keys[{index}] must be an RSA key with a 'kid'")
        try:
            keys.append(RSAKey.import_key(entry, {"kid": entry["kid"]}))
        except (JoseError, ValueError) as error:
            raise ValueError(f"JWKS: keys[{index}] is not a valid RSA key: {error}") from None
    return KeySet(keys)


class KeySource(Protocol):
    """Where a verifier gets the public keys tokens are checked against."""

    async def keys(self, *, refetch: bool = False) -> KeySet:
        """The keys held now; with ``refetch``, asked again from where they come (if that can change)."""
        ...


class LocalKeys:
    """Keys known in this process (the issuer's own, or a key file): nothing to fetch."""

    def __init__(self, keys: Iterable[RSAKey]) -> None:
        self._keys = key_set(public_jwks(keys))

    async def keys(self, *, refetch: bool = False) -> KeySet:
        return self._keys


class TokenIssuer:
    def __init__(
        self, key: RSAKey, *, ttl: timedelta = DEFAULT_TTL, refresh_ttl: timedelta = DEFAULT_REFRESH_TTL
    ) -> None:
        self._key = key
        self._kid = key_id(key)
        self.ttl = ttl
        self.refresh_ttl = refresh_ttl

    def issue(
        self, subject: str, roles: tuple[str, ...], *, now: datetime, session_id: str | None = None
    ) -> str:
        """An access token; a new login session unless ``session_id`` continues one (a refresh)."""
        return self._encode(subject, now, self.ttl, ACCESS, session_id or str(uuid7()), roles=list(roles))

    def issue_refresh(self, subject: str, *, now: datetime, session_id: str) -> str:
        """A refresh token for the session: it buys new access tokens, and is refused as one."""
        return self._encode(subject, now, self.refresh_ttl, REFRESH, session_id)

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
        header = {"alg": ALGORITHM, "typ": "JWT", "kid": self._kid}
        return jwt.encode(header, claims, self._key, algorithms=[ALGORITHM])

    def jwks(self) -> dict[str, Any]:
        """The public key tokens are verified with, as served at ``/auth/jwks.json``."""
        return public_jwks([self._key])

    def verifier(self) -> TokenVerifier:
        return TokenVerifier(LocalKeys([self._key]))


def decode(token: str, keys: KeySet, *, now: datetime, use: str = ACCESS) -> TokenClaims:
    """The claims of a valid token meant for ``use``, checked against ``keys`` at time ``now``."""
    kid = _header(token).get("kid")
    try:
        key = keys.get_by_kid(kid if isinstance(kid, str) else None)
    except InvalidKeyIdError:
        raise UnknownKeyError(f"no key for kid {kid!r}") from None
    try:
        decoded = jwt.decode(token, key, algorithms=[ALGORITHM])
        registry = JWTClaimsRegistry(
            now=int(now.timestamp()),
            leeway=int(CLOCK_SKEW.total_seconds()),
            iss={"essential": True, "value": ISSUER},
            sub={"essential": True},
            exp={"essential": True},
            iat={"essential": True},
        )
        registry.validate(decoded.claims)
    except ExpiredTokenError:
        raise TokenExpiredError("the token expired") from None
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
        jti=str(claims.get("jti") or "") or None,
    )


def _header(token: str) -> dict[str, Any]:
    try:
        segment = token.split(".", 1)[0]
        header = json.loads(base64.urlsafe_b64decode(segment + "=" * (-len(segment) % 4)))
    except (ValueError, UnicodeDecodeError):
        raise InvalidTokenError("the token is not a JWT") from None
    if not isinstance(header, dict):
        raise InvalidTokenError("the token's header is not a JSON object")
    return header


class TokenVerifier:
    """Checks tokens against the keys of a :class:`KeySource`; an unknown ``kid`` (the issuer
    rotated its key) makes it ask the source again once before refusing the token."""

    def __init__(self, source: KeySource) -> None:
        self._source = source

    async def verify(self, token: str, *, now: datetime, use: str = ACCESS) -> TokenClaims:
        """The claims of a valid token meant for ``use`` (an access token unless told otherwise)."""
        try:
            return decode(token, await self._source.keys(), now=now, use=use)
        except UnknownKeyError:
            return decode(token, await self._source.keys(refetch=True), now=now, use=use)
