"""Airflow's .airflowignore (regexp syntax) as the registry reads it."""

from __future__ import annotations

import logging

import pytest

from couture_registry.ignore_rules import is_private_name, matches, parse_ignore_file


def test_each_line_is_a_regexp_and_comments_and_blank_lines_are_skipped() -> None:
    patterns = parse_ignore_file("# scratch work\nscratch_.*\n\n  legacy/  # old team\n")
    assert [p.pattern for p in patterns] == ["scratch_.*", "legacy/"]


@pytest.mark.parametrize(
    ("path", "ignored"),
    [
        ("scratch_etl.py", True),
        ("team/scratch_report.py", True),  # searched anywhere in the path, like Airflow
        ("legacy/old.py", True),
        ("legacy_new.py", False),
        ("etl.py", False),
    ],
)
def test_a_path_is_ignored_when_any_pattern_is_found_in_it(path: str, ignored: bool) -> None:
    assert matches(path, parse_ignore_file("scratch_\nlegacy/")) is ignored


def test_an_invalid_pattern_is_skipped_with_a_warning(caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.WARNING):
        patterns = parse_ignore_file("ok\n(unclosed\n", source="dags/.airflowignore")
    assert [p.pattern for p in patterns] == ["ok"]
    assert "ignoring invalid pattern '(unclosed' in dags/.airflowignore" in caplog.text


@pytest.mark.parametrize(
    ("name", "private"), [(".swp.py", True), ("__init__.py", True), ("_util.py", True), ("etl.py", False)]
)
def test_names_starting_with_a_dot_or_underscore_are_never_dag_files(name: str, private: bool) -> None:
    assert is_private_name(name) is private
