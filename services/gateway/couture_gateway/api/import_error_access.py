"""Who sees an import error, after Airflow 3's public API: errors are per file, reads per DAG.

A user who may read every DAG sees every error. Anyone else sees the error of a file defining a
DAG they may read, with the stack trace only if they may read every DAG the file defines (it
may show another DAG's code or secrets); otherwise the trace is replaced by Airflow's
``REDACTED_STACKTRACE``. Errors of files that define no known DAG (a file that never parsed)
could belong to anyone's DAG, so only users who may read every DAG see them.
"""

from __future__ import annotations

from collections.abc import Set
from enum import Enum

REDACTED_STACKTRACE = "REDACTED - you do not have read permission on all DAGs in the file"


class Visibility(Enum):
    HIDDEN = "hidden"
    REDACTED = "redacted"
    FULL = "full"


def visibility(file_dags: Set[str], readable: Set[str] | None) -> Visibility:
    """How an error of a file defining ``file_dags`` shows to a user who may read ``readable``
    (None: every DAG)."""
    if readable is None:
        return Visibility.FULL
    if not file_dags & readable:
        return Visibility.HIDDEN
    return Visibility.FULL if file_dags <= readable else Visibility.REDACTED
