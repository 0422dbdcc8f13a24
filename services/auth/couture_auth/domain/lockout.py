"""Brute-force protection: too many failed logins lock a username, or a source address, for a while.

Pure: the state is data folded from the ``login`` topic (``LoginFailed``, ``LoginFailuresCleared``),
every function takes the time as an argument. Because the state is a fold of the log, every
auth process (each gateway, ``couture auth``) and a restarted one see the same lockouts.

A username is locked after ``max_user_failures`` failures within ``window``; an address after
``max_ip_failures`` (higher, since one address may front many users). While locked, even the
right password is refused, so a guess that happens to be right tells the attacker nothing. A
successful login clears the username's count, not the address's.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from types import MappingProxyType

from couture_common.events import Envelope, LoginFailed, LoginFailuresCleared


@dataclass(frozen=True, slots=True)
class LockoutPolicy:
    max_user_failures: int = 5
    max_ip_failures: int = 20
    window: timedelta = timedelta(minutes=15)
    lockout: timedelta = timedelta(minutes=15)

    @property
    def horizon(self) -> timedelta:
        """How far back an event can still matter: a failure counts for ``window``, a lockout it
        started lasts ``lockout``."""
        return max(self.window, self.lockout)


def _empty() -> Mapping[str, tuple[datetime, ...]]:
    return MappingProxyType({})


@dataclass(frozen=True, slots=True)
class LoginThrottle:
    #: Per key (``user:<name>`` or ``ip:<address>``), the times of failures still inside the window.
    failures: Mapping[str, tuple[datetime, ...]] = field(default_factory=_empty)
    locked_until: Mapping[str, datetime] = field(default_factory=lambda: MappingProxyType({}))
    #: Ids of the events folded that can still matter, with their times: one delivered twice counts once.
    applied: Mapping[str, datetime] = field(default_factory=lambda: MappingProxyType({}))


def keys_for(username: str, source_ip: str | None) -> tuple[str, ...]:
    return (f"user:{username}",) if source_ip is None else (f"user:{username}", f"ip:{source_ip}")


def blocked_until(
    throttle: LoginThrottle, username: str, source_ip: str | None, now: datetime
) -> datetime | None:
    """When the login may be tried again; None when it may be tried now."""
    ends = [
        end for key in keys_for(username, source_ip) if (end := throttle.locked_until.get(key)) and end > now
    ]
    return max(ends) if ends else None


def has_failures(throttle: LoginThrottle, username: str) -> bool:
    """Whether a success of ``username`` has a count to clear."""
    return f"user:{username}" in throttle.failures


def apply(throttle: LoginThrottle, record: Envelope, policy: LockoutPolicy) -> LoginThrottle:
    """One event of the ``login`` topic, at its envelope's time; other events change nothing."""
    event = record.payload
    if not isinstance(event, LoginFailed | LoginFailuresCleared) or record.id in throttle.applied:
        return throttle
    applied = MappingProxyType({**throttle.applied, record.id: record.time})
    if isinstance(event, LoginFailuresCleared):
        cleared = after_success(throttle, event.username)
        return LoginThrottle(cleared.failures, cleared.locked_until, applied)
    failed = after_failure(throttle, event.username, event.source_ip, record.time, policy)
    return LoginThrottle(failed.failures, failed.locked_until, applied)


def fold(
    records: Iterable[Envelope], throttle: LoginThrottle, policy: LockoutPolicy, now: datetime
) -> LoginThrottle:
    """``throttle`` after ``records``, forgetting what can no longer matter at ``now``."""
    for record in records:
        # An event older than the horizon can neither count nor lock any more.
        if now - record.time < policy.horizon:
            throttle = apply(throttle, record, policy)
    return forget_expired(throttle, now, policy)


def forget_expired(throttle: LoginThrottle, now: datetime, policy: LockoutPolicy) -> LoginThrottle:
    """Drop failures past the window, lockouts that ended and ids past the horizon, so the state
    stays as small as the last minutes of attempts however long the log is."""
    failures = {
        key: kept
        for key, times in throttle.failures.items()
        if (kept := tuple(t for t in times if now - t < policy.window))
    }
    locked = {key: end for key, end in throttle.locked_until.items() if end > now}
    applied = {i: at for i, at in throttle.applied.items() if now - at < policy.horizon}
    return LoginThrottle(MappingProxyType(failures), MappingProxyType(locked), MappingProxyType(applied))


def after_failure(
    throttle: LoginThrottle, username: str, source_ip: str | None, now: datetime, policy: LockoutPolicy
) -> LoginThrottle:
    # Failures past the window are forgotten for every key, so spraying names cannot grow the state.
    current = forget_expired(throttle, now, policy)
    failures = dict(current.failures)
    locked = dict(current.locked_until)
    for key in keys_for(username, source_ip):
        recent = (*failures.get(key, ()), now)
        limit = policy.max_user_failures if key.startswith("user:") else policy.max_ip_failures
        if len(recent) >= limit:
            locked[key] = now + policy.lockout
            recent = ()
        failures[key] = recent
    return LoginThrottle(
        MappingProxyType({k: v for k, v in failures.items() if v}),
        MappingProxyType(locked),
        current.applied,
    )


def after_success(throttle: LoginThrottle, username: str) -> LoginThrottle:
    key = f"user:{username}"
    if key not in throttle.failures:
        return throttle
    failures = {k: v for k, v in throttle.failures.items() if k != key}
    return LoginThrottle(MappingProxyType(failures), throttle.locked_until, throttle.applied)
