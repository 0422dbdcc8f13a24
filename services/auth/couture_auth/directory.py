"""The user directory as of the ``auth`` topic now, folded in this process.

Every process that judges tokens (the auth service, each gateway, the registry) follows the topic
itself, so a logout or a role change recorded anywhere applies everywhere without a call.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from datetime import datetime, timedelta

from couture_auth.domain.users import UserDirectory, fold, without_stale_revocations
from couture_auth.tokens import DEFAULT_REFRESH_TTL
from couture_common.clock import utcnow
from couture_common.eventlog import Consumer, EventLog
from couture_common.events import TokenRevoked
from couture_common.topics import AUTH

_REVOKED_AT_KEPT = timedelta(minutes=10)


class AuthDirectory:
    def __init__(
        self,
        log: EventLog,
        *,
        longest_token_lifetime: timedelta = DEFAULT_REFRESH_TTL,
        clock: Callable[[], datetime] = utcnow,
    ) -> None:
        """``longest_token_lifetime``: revocations older than it are dropped (their tokens expired)."""
        self._log = log
        self._longest = longest_token_lifetime
        self._clock = clock
        self._directory = UserDirectory()
        #: When the log recorded each recent revocation (its envelope's time), for telling a
        #: client's retry from a replay (``AuthService.refresh``); kept for ``_REVOKED_AT_KEPT``.
        self._revoked_at: dict[str, datetime] = {}
        self._consumer: Consumer | None = None
        self._lock = asyncio.Lock()
        self._catch_ups_begun = 0

    @property
    def folded(self) -> UserDirectory:
        """As of the last catch-up (no I/O)."""
        return self._directory

    async def current(self) -> UserDirectory:
        """Users, roles and revocations as of everything in the log now."""
        await self._catch_up()
        return self._directory

    def revoked_at(self, token_id: str | None) -> datetime | None:
        """When ``token_id`` was revoked, if that was recent (as of the last catch-up)."""
        return None if token_id is None else self._revoked_at.get(token_id)

    async def close(self) -> None:
        if self._consumer is not None:
            await self._consumer.close()
            self._consumer = None

    async def _catch_up(self) -> None:
        """Fold everything in the ``auth`` topic now.

        Concurrent callers share the work: a catch-up that began after a caller arrived has read
        everything appended before it, so once the caller holds the lock and sees one has begun
        since, it is done. Fifty concurrent requests then cost a poll or two, not fifty in a row.
        """
        arrived = self._catch_ups_begun
        async with self._lock:
            if self._catch_ups_begun > arrived:
                return
            self._catch_ups_begun += 1
            if self._consumer is None:
                self._consumer = self._log.consumer([AUTH])
            while records := await self._consumer.poll(timeout=0):
                self._directory = fold((r.envelope.payload for r in records), self._directory)
                for record in records:
                    if isinstance(record.envelope.payload, TokenRevoked):
                        self._revoked_at.setdefault(record.envelope.payload.token_id, record.envelope.time)
            now = self._clock()
            self._directory = without_stale_revocations(
                self._directory, now=now, longest_lifetime=self._longest
            )
            self._revoked_at = {t: at for t, at in self._revoked_at.items() if now - at < _REVOKED_AT_KEPT}
