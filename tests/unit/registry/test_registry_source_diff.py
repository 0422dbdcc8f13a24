"""The editor's review step: a unified diff of what saving would change."""

from __future__ import annotations

from couture_registry.source_diff import unified_diff


def test_an_edit_shows_removed_and_added_lines_with_context() -> None:
    stored = "a = 1\nb = 2\nc = 3\n"
    proposed = "a = 1\nb = 20\nc = 3\n"
    assert unified_diff("etl.py", stored, proposed) == (
        "--- a/etl.py\n+++ b/etl.py\n@@ -1,3 +1,3 @@\n a = 1\n-b = 2\n+b = 20\n c = 3\n"
    )


def test_no_change_gives_an_empty_diff() -> None:
    assert unified_diff("etl.py", "a = 1\n", "a = 1\n") == ""


def test_a_new_file_is_diffed_against_nothing() -> None:
    assert unified_diff("new.py", None, "x = 1\n") == "--- /dev/null\n+++ b/new.py\n@@ -0,0 +1 @@\n+x = 1\n"


def test_a_missing_final_newline_is_marked_like_git_does() -> None:
    assert unified_diff("etl.py", "x = 1", "x = 1\n") == (
        "--- a/etl.py\n+++ b/etl.py\n@@ -1 +1 @@\n-x = 1\n\\ No newline at end of file\n+x = 1\n"
    )
