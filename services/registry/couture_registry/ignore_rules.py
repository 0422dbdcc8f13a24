"""Which ``.py`` files in the DAG folder are DAG files: Airflow's ``.airflowignore`` (regexp syntax).

Airflow 2 rules, kept: each non-comment line of a ``.airflowignore`` is a regular expression,
searched in a path relative to the DAG folder; the patterns of a folder's file apply to that
folder and everything below it; a folder that matches is skipped whole. Ours on top: a file or
folder whose name starts with ``.`` or ``_`` is never a DAG file (hidden files, editors' temporary
files, ``__init__.py``, ``__pycache__``).
"""

from __future__ import annotations

import logging
import re
from collections.abc import Sequence

IGNORE_FILE_NAME = ".airflowignore"

_COMMENT = re.compile(r"\s*#.*")

log = logging.getLogger(__name__)


def parse_ignore_file(text: str, *, source: str = IGNORE_FILE_NAME) -> tuple[re.Pattern[str], ...]:
    """The patterns of one ``.airflowignore``; an invalid expression is skipped with a warning (Airflow)."""
    patterns: list[re.Pattern[str]] = []
    for line in text.splitlines():
        expression = _COMMENT.sub("", line).strip()
        if not expression:
            continue
        try:
            patterns.append(re.compile(expression))
        except re.error as error:
            log.warning("ignoring invalid pattern %r in %s: %s", expression, source, error)
    return tuple(patterns)


def is_private_name(name: str) -> bool:
    return name.startswith((".", "_"))


def matches(relative_path: str, patterns: Sequence[re.Pattern[str]]) -> bool:
    return any(pattern.search(relative_path) for pattern in patterns)
