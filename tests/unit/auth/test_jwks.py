"""Tokens name their key (``kid``); the JWKS publishes it; a verifier picks keys by ``kid``."""

from __future__ import annotations

import base64
import json
from datetime import UTC, datetime
from pathlib import Path

import pytest

from couture_auth.tokens import (
    ALGORITHM,
    REFRESH,
    InvalidTokenError,
    TokenIssuer,
    UnknownKeyError,
    decode,
    key_id,
    key_set,
    load_or_create_signing_key,
)

NOW = datetime(2026, 1, 1, 12, 0, tzinfo=UTC)


@pytest.fixture(scope="module")
def issuers(tmp_path_factory: pytest.TempPathFactory) -> tuple[TokenIssuer, TokenIssuer]:
    keys = tmp_path_factory.mktemp("keys")
    return (
        TokenIssuer(load_or_create_signing_key(keys / "one.pem")),
        TokenIssuer(load_or_create_signing_key(keys / "two.pem")),
    )


def _header(token: str) -> dict[str, object]:
    segment = token.split(".")[0]
    decoded: dict[str, object] = json.loads(base64.urlsafe_b64decode(segment + "=" * (-len(segment) % 4)))
    return decoded


def test_a_token_names_its_key_and_the_jwks_publishes_only_the_public_half(
    issuers: tuple[TokenIssuer, TokenIssuer],
) -> None:
    one, _ = issuers
    token = one.issue("ana", ("Admin",), now=NOW)
    [published] = one.jwks()["keys"]
    assert _header(token) == {"alg": ALGORITHM, "typ": "JWT", "kid": published["kid"]}
    assert published["kty"] == "RSA" and published["use"] == "sig" and published["alg"] == ALGORITHM
    assert {"n", "e"} <= published.keys()
    assert not {"d", "p", "q", "dp", "dq", "qi"} & published.keys()
    assert decode(token, key_set(one.jwks()), now=NOW).subject == "ana"


def test_every_process_loading_the_key_file_names_the_key_alike(tmp_path: Path) -> None:
    first = load_or_create_signing_key(tmp_path / "jwt.pem")
    again = load_or_create_signing_key(tmp_path / "jwt.pem")
    other = load_or_create_signing_key(tmp_path / "other.pem")
    assert key_id(first) == key_id(again) == TokenIssuer(again).jwks()["keys"][0]["kid"]
    assert key_id(other) != key_id(first)


def test_a_key_set_picks_the_key_the_token_names(issuers: tuple[TokenIssuer, TokenIssuer]) -> None:
    one, two = issuers
    both = key_set({"keys": [*one.jwks()["keys"], *two.jwks()["keys"]]})
    assert decode(two.issue("bo", (), now=NOW), both, now=NOW).subject == "bo"
    refresh = one.issue_refresh("ana", now=NOW, session_id="s1")
    claims = decode(refresh, both, now=NOW, use=REFRESH)
    assert claims.token_id == "s1" and claims.jti is not None and claims.jti != "s1"


def test_a_token_naming_a_key_not_held_is_an_unknown_key(issuers: tuple[TokenIssuer, TokenIssuer]) -> None:
    one, two = issuers
    with pytest.raises(UnknownKeyError):
        decode(two.issue("bo", (), now=NOW), key_set(one.jwks()), now=NOW)


def test_a_token_claiming_a_known_kid_but_signed_by_another_key_is_refused(
    issuers: tuple[TokenIssuer, TokenIssuer],
) -> None:
    one, two = issuers
    _, claims, signature = two.issue("root", ("Admin",), now=NOW).split(".")
    kid = one.jwks()["keys"][0]["kid"]
    lying = base64.urlsafe_b64encode(json.dumps({"alg": ALGORITHM, "kid": kid}).encode()).rstrip(b"=")
    with pytest.raises(InvalidTokenError) as refused:
        decode(f"{lying.decode()}.{claims}.{signature}", key_set(one.jwks()), now=NOW)
    assert not isinstance(refused.value, UnknownKeyError)


@pytest.mark.parametrize(
    ("document", "message"),
    [
        ({}, "'keys' must be a non-empty list"),
        ({"keys": []}, "'keys' must be a non-empty list"),
        ({"keys": [{"kty": "oct", "kid": "x", "k": "c2VjcmV0"}]}, "keys[0] must be an RSA key"),
        ({"keys": [{"kty": "RSA", "n": "AQAB", "e": "AQAB"}]}, "keys[0] must be an RSA key with a 'kid'"),
        ({"keys": [{"kty": "RSA", "kid": "x"}]}, "keys[0] is not a valid RSA key"),
    ],
)
def test_a_bad_jwks_document_is_refused_naming_the_entry(document: dict[str, object], message: str) -> None:
    with pytest.raises(ValueError, match=message.replace("[", r"\[").replace("]", r"\]")):
        key_set(document)
