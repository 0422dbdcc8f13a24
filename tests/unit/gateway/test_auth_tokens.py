"""Access tokens: RS256 only, signed by our key, within their lifetime."""

from __future__ import annotations

import base64
import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from couture_auth.passwords import hash_password, verify_password
from couture_auth.tokens import (
    CLOCK_SKEW,
    InvalidTokenError,
    TokenExpiredError,
    TokenIssuer,
    load_or_create_signing_key,
)

NOW = datetime(2026, 1, 1, 12, 0, tzinfo=UTC)


@pytest.fixture(scope="module")
def issuer(tmp_path_factory: pytest.TempPathFactory) -> TokenIssuer:
    key = load_or_create_signing_key(tmp_path_factory.mktemp("keys") / "jwt.pem")
    return TokenIssuer(key, ttl=timedelta(hours=1))


async def test_a_token_verifies_within_its_lifetime(issuer: TokenIssuer) -> None:
    token = issuer.issue("ana", ("Admin",), now=NOW)
    claims = await issuer.verifier().verify(token, now=NOW + timedelta(minutes=59))
    assert (claims.subject, claims.roles) == ("ana", ("Admin",))
    assert claims.expires_at == NOW + timedelta(hours=1)


async def test_an_expired_token_is_refused(issuer: TokenIssuer) -> None:
    token = issuer.issue("ana", (), now=NOW)
    # Within the allowed clock skew of another machine it still passes; beyond, it is expired.
    await issuer.verifier().verify(token, now=NOW + timedelta(hours=1) + CLOCK_SKEW - timedelta(seconds=1))
    with pytest.raises(TokenExpiredError):
        await issuer.verifier().verify(token, now=NOW + timedelta(hours=1) + CLOCK_SKEW)


def _segment(data: dict[str, object]) -> str:
    return base64.urlsafe_b64encode(json.dumps(data).encode()).rstrip(b"=").decode()


async def test_unsigned_tampered_and_foreign_tokens_are_refused(issuer: TokenIssuer, tmp_path: Path) -> None:
    token = issuer.issue("ana", (), now=NOW)
    header, claims, signature = token.split(".")
    forged = _segment({"iss": "couture", "sub": "root", "roles": ["Admin"], "iat": 0, "exp": 4102444800})
    foreign = TokenIssuer(load_or_create_signing_key(tmp_path / "other.pem")).issue("ana", (), now=NOW)
    for bad in (
        f"{_segment({'alg': 'none', 'typ': 'JWT'})}.{claims}.",
        f"{_segment({'alg': 'HS256', 'typ': 'JWT'})}.{claims}.{signature}",
        f"{header}.{forged}.{signature}",
        foreign,
        "garbage",
    ):
        with pytest.raises(InvalidTokenError):
            await issuer.verifier().verify(bad, now=NOW)


def test_the_signing_key_file_is_created_once_owner_only(tmp_path: Path) -> None:
    path = tmp_path / "data" / "jwt.pem"
    first = load_or_create_signing_key(path)
    assert path.stat().st_mode & 0o777 == 0o600
    again = load_or_create_signing_key(path)
    assert first.as_pem(private=False) == again.as_pem(private=False)


def test_passwords_are_stored_as_argon2_hashes() -> None:
    stored = hash_password("couture@123")
    assert stored.startswith("$argon2id$")
    assert "couture@123" not in stored
    assert verify_password(stored, "couture@123")
    assert not verify_password(stored, "couture@124")
    assert not verify_password("not a hash", "couture@123")
