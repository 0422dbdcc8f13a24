"""Failed logins lock a username or an address for a while; time is an argument, no sleeping."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from couture_auth.domain.lockout import (
    LockoutPolicy,
    LoginThrottle,
    after_failure,
    after_success,
    blocked_until,
)

T0 = datetime(2026, 1, 1, tzinfo=UTC)
POLICY = LockoutPolicy(max_user_failures=3, max_ip_failures=5, window=timedelta(minutes=10))


def fail(throttle: LoginThrottle, username: str, ip: str | None, at: datetime) -> LoginThrottle:
    return after_failure(throttle, username, ip, at, POLICY)


def test_the_third_failure_within_the_window_locks_the_username_for_the_lockout() -> None:
    throttle = LoginThrottle()
    for minute in range(3):
        assert blocked_until(throttle, "ana", "10.0.0.1", T0 + timedelta(minutes=minute)) is None
        throttle = fail(throttle, "ana", "10.0.0.1", T0 + timedelta(minutes=minute))
    until = T0 + timedelta(minutes=2) + POLICY.lockout
    assert blocked_until(throttle, "ana", "10.0.0.9", T0 + timedelta(minutes=3)) == until
    assert blocked_until(throttle, "bo", "10.0.0.9", T0 + timedelta(minutes=3)) is None
    assert blocked_until(throttle, "ana", "10.0.0.9", until) is None


def test_failures_outside_the_window_are_forgotten() -> None:
    throttle = fail(LoginThrottle(), "ana", None, T0)
    throttle = fail(throttle, "ana", None, T0 + timedelta(minutes=1))
    third = T0 + timedelta(minutes=10, seconds=30)
    throttle = fail(throttle, "ana", None, third)
    assert blocked_until(throttle, "ana", None, third) is None
    assert throttle.failures["user:ana"] == (T0 + timedelta(minutes=1), third)


def test_many_usernames_from_one_address_lock_the_address() -> None:
    throttle = LoginThrottle()
    for n in range(5):
        throttle = fail(throttle, f"user{n}", "203.0.113.9", T0)
    assert blocked_until(throttle, "someone-else", "203.0.113.9", T0) == T0 + POLICY.lockout
    assert blocked_until(throttle, "someone-else", "203.0.113.10", T0) is None


def test_a_success_clears_the_usernames_count_but_not_the_addresss() -> None:
    throttle = fail(fail(LoginThrottle(), "ana", "10.0.0.1", T0), "ana", "10.0.0.1", T0)
    throttle = after_success(throttle, "ana")
    assert "user:ana" not in throttle.failures
    assert len(throttle.failures["ip:10.0.0.1"]) == 2
    throttle = fail(fail(throttle, "ana", None, T0), "ana", None, T0)
    assert blocked_until(throttle, "ana", None, T0) is None


def test_old_failures_of_other_names_do_not_pile_up() -> None:
    throttle = LoginThrottle()
    for n in range(50):
        throttle = fail(throttle, f"spray{n}", None, T0 + timedelta(minutes=n))
    assert len(throttle.failures) <= 10
