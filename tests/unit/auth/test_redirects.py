"""``next=`` after a login: only a path of this site is followed, anything else goes to ``/``."""

from __future__ import annotations

import pytest

from couture_auth.domain.redirects import safe_next


@pytest.mark.parametrize(
    ("target", "followed"),
    [
        ("/dags", "/dags"),
        ("/dags/etl/grid?run_id=r1#log", "/dags/etl/grid?run_id=r1#log"),
        ("/", "/"),
        ("/dags/a%2Fb", "/dags/a%2Fb"),
        (None, "/"),
        ("", "/"),
        ("//evil.example", "/"),
        ("//evil.example/dags", "/"),
        ("/\\evil.example", "/"),
        ("/dags\\..\\\\evil.example", "/"),
        ("https://evil.example/", "/"),
        ("http:/evil.example", "/"),
        ("javascript:alert(1)", "/"),
        ("JaVaScRiPt:alert(1)", "/"),
        ("data:text/html,hi", "/"),
        ("evil.example/dags", "/"),
        ("dags", "/"),
        ("/\t/evil.example", "/"),
        ("/\n/evil.example", "/"),
        ("/ /evil.example", "/"),
        ("/dags\x00", "/"),
        ("/dags\x7f", "/"),
        (" /dags", "/"),
    ],
)
def test_only_same_origin_paths_are_followed(target: str | None, followed: str) -> None:
    assert safe_next(target) == followed
