"""Airflow's exception names, so DAG files that raise or catch them run unchanged."""

from __future__ import annotations


class AirflowException(Exception):
    """Base of every error the SDK raises on purpose; a task raising it fails (and may retry)."""


class AirflowSkipException(AirflowException):
    """Raised by a task to end as ``skipped`` instead of success or failure."""


class AirflowFailException(AirflowException):
    """Raised by a task to fail at once, without using its remaining retries."""


class AirflowDagCycleException(AirflowException):
    """The DAG's dependencies contain a cycle."""


class DuplicateTaskIdFound(AirflowException):
    """Two different tasks of one DAG share a task_id."""


class AirflowNotFoundException(AirflowException):
    """A connection (or other named object) asked for does not exist."""


class AirflowTaskTimeout(BaseException):
    """The task ran past its ``execution_timeout``.

    A BaseException, as in Airflow, so that user code's ``except Exception`` cannot swallow it.
    """
