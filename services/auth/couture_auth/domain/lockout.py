"""Brute-force protection: too many failed logins lock a username, or a source address, for a while.

Pure: the state is data, every function takes ``now``. A username is locked after
``max_user_failures`` failures within ``window``; an address after ``max_ip_failures`` (higher,
since one address may front many users). While locked, even the right password is refused, so a
guess that happens to be right tells the attacker nothing. A successful login clears the
username's count, not the address's.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from types import MappingProxyType


@dataclass(frozen=True, slots=True)
class LockoutPolicy:
    max_user_failures: int = 5
    max_ip_failures: int = 20
    window: timedelta = timedelta(minutes=15)
    lockout: timedelta = timedelta(minutes=15)


@dataclass(frozen=True, slots=True)
class LoginThrottle:
    #: Per key (``user:<name>`` or ``ip:<address>``), the times of failures still inside the window.
    failures: Mapping[str, tuple[datetime, ...]] = field(default_factory=lambda: MappingProxyType({}))
    locked_until: Mapping[str, datetime] = field(default_factory=lambda: MappingProxyType({}))


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


def after_failure(
    throttle: LoginThrottle, username: str, source_ip: str | None, now: datetime, policy: LockoutPolicy
) -> LoginThrottle:
    # Failures past the window are forgotten for every key, so spraying names cannot grow the state.
    failures = {
        key: kept
        for key, times in throttle.failures.items()
        if (kept := tuple(t for t in times if now - t < policy.window))
    }
    locked = {key: end for key, end in throttle.locked_until.items() if end > now}
    for key in keys_for(username, source_ip):
        recent = (*failures.get(key, ()), now)
        limit = policy.max_user_failures if key.startswith("user:") else policy.max_ip_failures
        if len(recent) >= limit:
            locked[key] = now + policy.lockout
            recent = ()
        failures[key] = recent
    return LoginThrottle(MappingProxyType({k: v for k, v in failures.items() if v}), MappingProxyType(locked))


def after_success(throttle: LoginThrottle, username: str) -> LoginThrottle:
    key = f"user:{username}"
    if key not in throttle.failures:
        return throttle
    failures = {k: v for k, v in throttle.failures.items() if k != key}
    return LoginThrottle(MappingProxyType(failures), throttle.locked_until)
