"""The review step of the DAG editor: what saving would change, as a unified diff."""

from __future__ import annotations

import difflib

_NO_NEWLINE = "\\ No newline at end of file\n"


def unified_diff(fileloc: str, stored: str | None, proposed: str, *, context: int = 3) -> str:
    """``git diff``-style text turning ``stored`` (None: the file is new) into ``proposed``; '' if equal."""
    before = _lines(stored or "")
    after = _lines(proposed)
    origin = f"a/{fileloc}" if stored is not None else "/dev/null"
    return "".join(difflib.unified_diff(before, after, fromfile=origin, tofile=f"b/{fileloc}", n=context))


def _lines(text: str) -> list[str]:
    """Lines with their ends; a last line without one is marked the way diff and patch expect."""
    lines = text.splitlines(keepends=True)
    if lines and not lines[-1].endswith(("\n", "\r")):
        lines[-1] += "\n" + _NO_NEWLINE
    return lines
