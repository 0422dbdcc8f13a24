"""Oversized and malformed bodies are refused with a clear answer, and still audited."""

from __future__ import annotations

from collections.abc import AsyncIterator

from couture_common.events import AuditRecorded
from couture_gateway.api.body_limit import DEFAULT_MAX_BODY_BYTES

from .test_gateway import Harness, harness, signing_key_pem

__all__ = ["harness", "signing_key_pem"]


async def test_an_oversized_body_is_413_before_any_route_reads_it(harness: Harness) -> None:
    huge = b'{"key": "k", "value": "' + b"x" * DEFAULT_MAX_BODY_BYTES + b'"}'
    answer = await harness.post(
        "/api/v2/variables", content=huge, headers={"Content-Type": "application/json"}
    )
    assert answer.status_code == 413
    assert answer.json() == {"detail": f"Request body is larger than {DEFAULT_MAX_BODY_BYTES} bytes"}

    async def chunks() -> AsyncIterator[bytes]:
        for _ in range(DEFAULT_MAX_BODY_BYTES // (1 << 20) + 1):
            yield b"x" * (1 << 20)

    streamed = await harness.post(
        "/api/v2/variables", content=chunks(), headers={"Content-Type": "application/json"}
    )
    assert streamed.status_code == 413
    assert streamed.json() == {"detail": f"Request body is larger than {DEFAULT_MAX_BODY_BYTES} bytes"}
    assert (await harness.get("/api/v2/variables/k")).status_code == 404
    records = await harness.logged(AuditRecorded)
    assert [(r.outcome, r.status_code, r.path) for r in records[-2:]] == [
        ("failed", 413, "/api/v2/variables")
    ] * 2


async def test_a_malformed_body_is_422_naming_the_body(harness: Harness) -> None:
    answer = await harness.post(
        "/api/v2/variables", content=b'{"key": "k", "value": ', headers={"Content-Type": "application/json"}
    )
    assert answer.status_code == 422
    assert answer.json()["detail"][0]["loc"][0] == "body"
    login = await harness.client.post(
        "/auth/token", content=b"not json", headers={"Content-Type": "application/json"}
    )
    assert login.status_code == 422
