"""The login lockout as the ``login`` topic says it is: failures are appended there, and the state
is folded from it (``domain.lockout``) before every judgement.

So a second gateway, a separately started ``couture auth`` and a restarted process all refuse the
same username and address, and a restart forgets nothing.
"""

from __future__ import annotations

import asyncio
from datetime import datetime

from couture_auth.domain.lockout import LockoutPolicy, LoginThrottle, blocked_until, fold, has_failures
from couture_common.eventlog import Consumer, EventLog, TopicPartition
from couture_common.events import LoginFailed, LoginFailuresCleared, envelope
from couture_common.topics import LOGIN

#: How long one poll may wait for a record the end offsets say is there (Kafka fetches lazily).
_POLL_TIMEOUT_S = 1.0


class SharedLockout:
    def __init__(self, log: EventLog, policy: LockoutPolicy, *, actor: str) -> None:
        self._log = log
        self._policy = policy
        self._actor = actor
        self._throttle = LoginThrottle()
        self._consumer: Consumer | None = None
        self._lock = asyncio.Lock()

    async def blocked_until(self, username: str, source_ip: str | None, now: datetime) -> datetime | None:
        """When ``username`` from ``source_ip`` may try again, as of every failure logged so far."""
        await self._catch_up(now)
        return blocked_until(self._throttle, username, source_ip, now)

    async def failed(self, username: str, source_ip: str | None, now: datetime) -> None:
        event = LoginFailed(username=username, source_ip=source_ip)
        await self._log.append([envelope(event, actor=self._actor, time=now)])
        await self._catch_up(now)

    async def succeeded(self, username: str, now: datetime) -> None:
        """Clear the username's count; nothing is logged when it has none (the usual case)."""
        await self._catch_up(now)
        if has_failures(self._throttle, username):
            event = LoginFailuresCleared(username=username)
            await self._log.append([envelope(event, actor=self._actor, time=now)])
            await self._catch_up(now)

    async def close(self) -> None:
        if self._consumer is not None:
            await self._consumer.close()
            self._consumer = None

    async def _catch_up(self, now: datetime) -> None:
        """Fold the topic up to its end offsets as of now, waiting for records a lazy fetch has
        not brought yet, so a failure another process logged before this call is always counted."""
        async with self._lock:
            if self._consumer is None:
                self._consumer = self._log.consumer([LOGIN])
            ends = await self._log.end_offsets(LOGIN)
            for partition, end in ends.items():
                tp = TopicPartition(LOGIN, partition)
                while self._consumer.position(tp) < end:
                    records = await self._consumer.poll(timeout=_POLL_TIMEOUT_S)
                    if not records:
                        break
                    self._throttle = fold((r.envelope for r in records), self._throttle, self._policy, now)
            self._throttle = fold((), self._throttle, self._policy, now)
