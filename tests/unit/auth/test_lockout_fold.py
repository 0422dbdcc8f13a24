"""The lockout is a fold of the ``login`` topic: replaying the same events gives the same lockout,
whichever process folds them and whenever it starts; time is an argument, no sleeping."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from couture_auth.domain.lockout import LockoutPolicy, LoginThrottle, blocked_until, fold
from couture_common.events import DagPausedSet, Envelope, LoginFailed, LoginFailuresCleared, envelope

T0 = datetime(2026, 1, 1, tzinfo=UTC)
POLICY = LockoutPolicy(max_user_failures=3, max_ip_failures=5, window=timedelta(minutes=10))


def failed(username: str, at: datetime, ip: str | None = "10.0.0.1") -> Envelope:
    return envelope(LoginFailed(username=username, source_ip=ip), actor="service:auth", time=at, trace={})


def cleared(username: str, at: datetime) -> Envelope:
    return envelope(LoginFailuresCleared(username=username), actor="service:auth", time=at, trace={})


def test_three_failures_in_the_log_lock_the_username_from_the_third_ones_time() -> None:
    log = [failed("ana", T0 + timedelta(minutes=m)) for m in range(3)]
    now = T0 + timedelta(minutes=4)
    throttle = fold(log, LoginThrottle(), POLICY, now)
    assert blocked_until(throttle, "ana", "192.0.2.1", now) == T0 + timedelta(minutes=2) + POLICY.lockout
    assert blocked_until(throttle, "bo", "10.0.0.1", now) is None


def test_folding_in_pieces_or_at_once_gives_the_same_lockout() -> None:
    log = [failed("ana", T0 + timedelta(seconds=s)) for s in range(0, 50, 10)]
    now = T0 + timedelta(minutes=1)
    at_once = fold(log, LoginThrottle(), POLICY, now)
    in_pieces = fold(log[2:], fold(log[:2], LoginThrottle(), POLICY, now), POLICY, now)
    assert at_once == in_pieces
    assert blocked_until(at_once, "x", "10.0.0.1", now) == T0 + timedelta(seconds=40) + POLICY.lockout


def test_an_event_delivered_twice_counts_once() -> None:
    first, second = failed("ana", T0), failed("ana", T0 + timedelta(seconds=1))
    now = T0 + timedelta(seconds=2)
    throttle = fold([first, second, first, second], LoginThrottle(), POLICY, now)
    assert blocked_until(throttle, "ana", None, now) is None
    assert len(throttle.failures["user:ana"]) == 2


def test_a_success_in_the_log_clears_the_usernames_count() -> None:
    log = [failed("ana", T0), failed("ana", T0), cleared("ana", T0), failed("ana", T0)]
    throttle = fold(log, LoginThrottle(), POLICY, T0)
    assert blocked_until(throttle, "ana", None, T0) is None
    assert len(throttle.failures["ip:10.0.0.1"]) == 3


def test_events_that_can_no_longer_matter_are_skipped_and_the_state_stays_small() -> None:
    spray = [failed(f"spray{n}", T0 + timedelta(seconds=n), ip=None) for n in range(500)]
    later = T0 + timedelta(hours=2)
    throttle = fold(spray, LoginThrottle(), POLICY, later)
    assert throttle == LoginThrottle()
    locked = fold([failed("ana", T0 + timedelta(minutes=m)) for m in range(3)], LoginThrottle(), POLICY, T0)
    assert fold([], locked, POLICY, T0 + timedelta(minutes=2) + POLICY.lockout) == LoginThrottle()


def test_other_events_change_nothing() -> None:
    other = envelope(DagPausedSet(dag_id="etl", is_paused=True), actor="x", time=T0, trace={})
    assert fold([other], LoginThrottle(), POLICY, T0) == LoginThrottle()
