"""``couture users create`` and ``couture users list`` on a real home."""

from __future__ import annotations

from pathlib import Path

from .test_cli import couture, home

__all__ = ["home"]


def test_created_users_are_listed_with_their_roles_and_never_a_password(home: Path) -> None:
    created = couture(
        home, "users", "create", "-u", "bea", "-r", "Op", "-p", "long-enough-1", "-e", "bea@example.com"
    )
    assert created.returncode == 0, created.stderr
    couture(home, "users", "create", "-u", "al", "-r", "Viewer", "-p", "long-enough-2")

    listed = couture(home, "users", "list")
    assert listed.returncode == 0, listed.stderr
    lines = listed.stdout.splitlines()
    assert [cell.strip() for cell in lines[0].split("|")][:2] == ["username", "roles"]
    assert [line.split(" | ")[0].strip() for line in lines[2:]] == ["al", "bea"]
    assert "bea@example.com" in lines[3] and "Op" in lines[3]
    assert "long-enough" not in listed.stdout and "argon2" not in listed.stdout
