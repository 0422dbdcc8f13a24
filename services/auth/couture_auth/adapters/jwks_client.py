"""The auth service's JWKS over HTTP (httpx): fetched once, cached, fetched again on a key rotation.

A verifier in another process (a gateway or the registry in a distributed deployment) asks for the
keys at ``{auth_url}/auth/jwks.json`` the first time it checks a token and keeps them. A token
naming a key it does not hold makes it fetch again, at most once per ``min_refetch_interval``, so
a flood of tokens with made-up key ids cannot turn into a flood of requests to the auth service.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable

import httpx
from joserfc.jwk import KeySet

from couture_auth.tokens import KeySource, KeysUnavailable, TokenVerifier, key_set

JWKS_PATH = "/auth/jwks.json"


class RemoteJwks:
    def __init__(
        self,
        auth_url: str,
        *,
        client: httpx.AsyncClient | None = None,
        min_refetch_interval: float = 10.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._url = auth_url.rstrip("/") + JWKS_PATH
        self._client = client
        self._min_interval = min_refetch_interval
        self._clock = clock
        self._keys: KeySet | None = None
        self._fetched_at: float | None = None
        self._lock = asyncio.Lock()

    async def keys(self, *, refetch: bool = False) -> KeySet:
        async with self._lock:
            if self._keys is None or (refetch and self._may_refetch()):
                self._keys = await self._fetch()
                self._fetched_at = self._clock()
            return self._keys

    def _may_refetch(self) -> bool:
        return self._fetched_at is None or self._clock() - self._fetched_at >= self._min_interval

    async def _fetch(self) -> KeySet:
        try:
            if self._client is not None:
                answer = await self._client.get(self._url)
            else:
                async with httpx.AsyncClient(timeout=10.0) as client:
                    answer = await client.get(self._url)
            answer.raise_for_status()
            return key_set(answer.json())
        except (httpx.HTTPError, ValueError) as error:
            raise KeysUnavailable(f"cannot read the JWKS at {self._url}: {error}") from None


class CombinedKeys:
    """The keys of several sources as one set: a gateway trusts the tokens it signs itself (its
    embedded logins) and those the auth service signs, even when the two keys differ."""

    def __init__(self, *sources: KeySource) -> None:
        self._sources = sources

    async def keys(self, *, refetch: bool = False) -> KeySet:
        return KeySet([key for source in self._sources for key in (await source.keys(refetch=refetch)).keys])


def token_verifier(auth_url: str | None, own_keys: KeySource) -> TokenVerifier:
    """How a gateway checks tokens: against the JWKS of the auth service at ``auth_url`` besides its
    own key (distributed), else with its own key alone (standalone)."""
    if auth_url is None:
        return TokenVerifier(own_keys)
    return TokenVerifier(CombinedKeys(own_keys, RemoteJwks(auth_url)))
