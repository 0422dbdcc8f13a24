"""Logged-out sessions and used refresh tokens, as folded from the ``auth`` topic, and their pruning."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from couture_auth.domain.users import fold, without_stale_revocations
from couture_common.events import TokenRevoked

NOW = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
WEEK = timedelta(days=7)


def revoked(token_id: str, expires_at: datetime) -> TokenRevoked:
    return TokenRevoked(token_id=token_id, username="ana", expires_at=expires_at)


def test_a_revocation_is_folded_once_and_keeps_its_latest_expiry() -> None:
    early, late = NOW + timedelta(minutes=15), NOW + WEEK
    directory = fold([revoked("s1", late), revoked("s1", early), revoked("s1", late)])
    assert directory.revoked_tokens == {"s1": late}
    assert directory.is_revoked("s1")
    assert not directory.is_revoked("s2")
    assert not directory.is_revoked(None)


def test_revocations_older_than_the_longest_token_lifetime_are_dropped() -> None:
    directory = fold(
        [
            revoked("long-gone", NOW - WEEK - timedelta(seconds=1)),
            revoked("just-gone", NOW - WEEK),
            revoked("recent", NOW - WEEK + timedelta(seconds=1)),
            revoked("ahead", NOW + WEEK),
        ]
    )
    pruned = without_stale_revocations(directory, now=NOW, longest_lifetime=WEEK)
    assert set(pruned.revoked_tokens) == {"recent", "ahead"}
    # Pure: the folded state given is unchanged, and time only ever comes in as an argument.
    assert len(directory.revoked_tokens) == 4
    later = without_stale_revocations(
        pruned, now=NOW + 2 * WEEK + timedelta(seconds=1), longest_lifetime=WEEK
    )
    assert later.revoked_tokens == {}


def test_nothing_to_prune_returns_the_same_state() -> None:
    directory = fold([revoked("s1", NOW)])
    assert without_stale_revocations(directory, now=NOW, longest_lifetime=WEEK) is directory


def test_a_pruned_revocation_redelivered_is_pruned_again() -> None:
    event = revoked("s1", NOW - 2 * WEEK)
    pruned = without_stale_revocations(fold([event]), now=NOW, longest_lifetime=WEEK)
    again = without_stale_revocations(fold([event], pruned), now=NOW, longest_lifetime=WEEK)
    assert again.revoked_tokens == {}
