"""Which names and contents the registry accepts for DAG files, and the reason it gives otherwise."""

from __future__ import annotations

import pytest

from couture_registry.validation import InvalidDagFileError, Limits, check_dag_file_name, check_source


@pytest.mark.parametrize("name", ["etl.py", "team-a/etl_v2.py", "a/b/c.d.py", "_helpers.py", "X-1.py"])
def test_safe_names_are_accepted_unchanged(name: str) -> None:
    assert check_dag_file_name(name) == name


@pytest.mark.parametrize(
    ("name", "reason"),
    [
        ("", "empty"),
        ("/etc/cron.py", "absolute path"),
        ("../outside.py", "'..'"),
        ("a/../../outside.py", "'..'"),
        ("a//b.py", "empty"),
        ("./a.py", "'.'"),
        ("etl.txt", "not a .py file"),
        ("etl", "not a .py file"),
        ("my dag.py", "only contain letters"),
        ("a\\b.py", "only contain letters"),
        ("ünïcode.py", "only contain letters"),
        (".hidden.py", "hidden"),
        ("dir/.airflowignore", "hidden"),
        ("a" * 253 + ".py", "longer than 255"),
    ],
)
def test_unsafe_names_are_refused_with_the_reason(name: str, reason: str) -> None:
    with pytest.raises(InvalidDagFileError, match=reason):
        check_dag_file_name(name)


def test_source_must_be_utf8_text() -> None:
    assert check_source("print('héllo')\n".encode(), Limits()) == "print('héllo')\n"
    with pytest.raises(InvalidDagFileError, match=r"not UTF-8 text \(byte 0\)"):
        check_source(b"\xff\xfe binary", Limits())


def test_source_larger_than_the_limit_is_refused() -> None:
    limits = Limits(max_file_bytes=10)
    assert check_source(b"x" * 10, limits) == "x" * 10
    with pytest.raises(InvalidDagFileError, match="11 bytes, more than the limit of 10"):
        check_source(b"x" * 11, limits)
