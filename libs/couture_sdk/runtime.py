"""The task process's link to the platform: what ``Variable.get``, ``xcom_pull`` and ``BaseHook``
call while a task runs. The executor installs one implementation per task process (it forwards to
its supervisor); ``couture dags test`` and unit tests install their own. Outside a task process
(for example while a DAG file is parsed) there is none, and using one is a clear error.
"""

from __future__ import annotations

from typing import Any, Protocol


class ConnectionInfo(Protocol):
    conn_id: str
    conn_type: str
    host: str | None
    schema: str | None
    login: str | None
    password: str | None
    port: int | None
    extra: str | None


class TaskRuntime(Protocol):
    def get_variable(self, key: str) -> str | None:
        """The variable's clear-text value, or None when it does not exist."""

    def set_variable(self, key: str, value: str, description: str | None = None) -> None: ...

    def delete_variable(self, key: str) -> None: ...

    def get_connection(self, conn_id: str) -> ConnectionInfo | None:
        """One of the entries with this conn_id, chosen at random; None when there is none."""

    def xcom_push(self, key: str, value: Any) -> None:
        """Push an XCom for the running task instance; ``value`` must be JSON-serialisable."""

    def xcom_pull(
        self,
        *,
        dag_id: str,
        run_id: str,
        task_ids: list[str] | None,
        key: str,
        include_prior_dates: bool = False,
    ) -> list[Any]:
        """Values for ``key`` from each task id in order (None where absent); all tasks when None."""

    def trigger_dag_run(self, dag_id: str, conf: dict[str, Any], run_id: str | None = None) -> str:
        """Ask for a run of ``dag_id``; returns its run_id (DagOperator)."""


class NoRuntimeError(RuntimeError):
    pass


_current: TaskRuntime | None = None


def set_runtime(runtime: TaskRuntime | None) -> None:
    global _current
    _current = runtime


def current_runtime() -> TaskRuntime:
    if _current is None:
        raise NoRuntimeError(
            "Variables, connections and XComs are only available while a task runs, "
            "not while the DAG file is parsed"
        )
    return _current
