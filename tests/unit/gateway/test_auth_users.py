"""The user directory is a pure fold of ``auth`` events."""

from __future__ import annotations

from couture_auth.domain.users import SUPERADMIN, UserDirectory, fold, seed_events
from couture_common.events import UserCreated, UserPasswordChanged


def test_given_a_created_user_then_the_directory_knows_them() -> None:
    directory = fold([UserCreated(username="ana", password_hash="h1", roles=("Viewer",))])
    user = directory.get("ana")
    assert user is not None
    assert (user.password_hash, user.roles) == ("h1", ("Viewer",))
    assert directory.get("bo") is None


def test_a_repeated_creation_keeps_the_first_account() -> None:
    directory = fold(
        [UserCreated(username="ana", password_hash="h1"), UserCreated(username="ana", password_hash="h2")]
    )
    assert directory.get("ana").password_hash == "h1"  # type: ignore[union-attr]


def test_password_change_applies_once_and_ignores_unknown_users() -> None:
    change = UserPasswordChanged(username="ana", password_hash="h2")
    events = [UserCreated(username="ana", password_hash="h1"), change, change]
    directory = fold([*events, UserPasswordChanged(username="ghost", password_hash="x")])
    assert directory.get("ana").password_hash == "h2"  # type: ignore[union-attr]
    assert directory.get("ghost") is None
    assert fold(events) == fold([*events, change])


def test_superadmin_is_seeded_only_into_an_empty_directory() -> None:
    [seed] = seed_events(UserDirectory(), password_hash="h")
    assert isinstance(seed, UserCreated)
    assert (seed.username, seed.roles) == (SUPERADMIN, ("Admin",))
    assert seed_events(fold([UserCreated(username="ana", password_hash="h")]), password_hash="h") == []
