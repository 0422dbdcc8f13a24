"""A TaskRuntime kept in memory, for running tasks on one machine without the platform
(``couture dags test``, the SDK's own tests). Each task's XComs, variables and triggered runs
live in this object for its lifetime."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from couture_sdk.runtime import ConnectionInfo


@dataclass
class LocalConnection:
    conn_id: str
    conn_type: str
    host: str | None = None
    schema: str | None = None
    login: str | None = None
    password: str | None = None
    port: int | None = None
    extra: str | None = None


@dataclass(frozen=True)
class TriggeredRun:
    dag_id: str
    run_id: str
    conf: dict[str, Any]


@dataclass
class LocalRuntime:
    """Install with ``set_runtime(runtime)``; call :meth:`start_task` before each task runs.

    Runs kept here have no order, so ``include_prior_dates`` reads the given run only.
    """

    variables: dict[str, str] = field(default_factory=dict)
    connections: dict[str, ConnectionInfo] = field(default_factory=dict)
    #: (dag_id, run_id, task_id, key) -> value, in push order.
    xcoms: dict[tuple[str, str, str, str], Any] = field(default_factory=dict)
    triggered: list[TriggeredRun] = field(default_factory=list)
    dag_id: str = ""
    run_id: str = ""
    task_id: str = ""

    def start_task(self, dag_id: str, run_id: str, task_id: str) -> None:
        """The task instance whose XComs are pushed from now on; its earlier XComs are cleared,
        as Airflow clears a try's XComs before it runs."""
        self.dag_id, self.run_id, self.task_id = dag_id, run_id, task_id
        for key in [k for k in self.xcoms if k[:3] == (dag_id, run_id, task_id)]:
            del self.xcoms[key]

    def get_variable(self, key: str) -> str | None:
        return self.variables.get(key)

    def set_variable(self, key: str, value: str, description: str | None = None) -> None:
        self.variables[key] = value

    def delete_variable(self, key: str) -> None:
        self.variables.pop(key, None)

    def get_connection(self, conn_id: str) -> ConnectionInfo | None:
        return self.connections.get(conn_id)

    def xcom_push(self, key: str, value: Any) -> None:
        if not self.task_id:
            raise RuntimeError("LocalRuntime.start_task must be called before a task pushes XComs")
        # A round trip through JSON: what a task pulls is what the platform would have stored.
        entry = (self.dag_id, self.run_id, self.task_id, key)
        self.xcoms.pop(entry, None)
        self.xcoms[entry] = json.loads(json.dumps(value))

    def xcom_pull(
        self,
        *,
        dag_id: str,
        run_id: str,
        task_ids: list[str] | None,
        key: str,
        include_prior_dates: bool = False,
    ) -> list[Any]:
        if task_ids is not None:
            return [self.xcoms.get((dag_id, run_id, task_id, key)) for task_id in task_ids]
        matching = [v for (d, r, _, k), v in self.xcoms.items() if (d, r, k) == (dag_id, run_id, key)]
        return matching[::-1]

    def trigger_dag_run(self, dag_id: str, conf: dict[str, Any], run_id: str | None = None) -> str:
        new_run_id = run_id or f"manual__{dag_id}__{len(self.triggered) + 1}"
        self.triggered.append(TriggeredRun(dag_id=dag_id, run_id=new_run_id, conf=dict(conf)))
        return new_run_id
