"""The template context: what ``{{ ds }}``, ``**kwargs`` of a PythonOperator callable and
``execute(context)`` see while a task runs."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from couture_common.clock import ensure_utc
from couture_common.timetables import timetable_for
from couture_sdk import macros
from couture_sdk.configuration import conf as airflow_conf
from couture_sdk.exceptions import AirflowNotFoundException
from couture_sdk.models import BaseHook, Connection, Variable
from couture_sdk.taskinstance import DagRun, TaskInstance

if TYPE_CHECKING:
    from couture_sdk.baseoperator import BaseOperator
    from couture_sdk.dag import DAG

Context = dict[str, Any]

_current: list[Context] = []


def get_current_context() -> Context:
    """The running task's context, from inside its callable (Airflow's ``get_current_context``)."""
    if not _current:
        raise RuntimeError(
            "Current context was requested but no context was found! Are you running within a task?"
        )
    return _current[-1]


def set_current_context(context: Context | None) -> None:
    _current.clear()
    if context is not None:
        _current.append(context)


class _VariableValues:
    """``var.value.<key>`` and ``var.value.get(key, default)``."""

    def __init__(self, deserialize_json: bool) -> None:
        self._json = deserialize_json

    def __getattr__(self, key: str) -> Any:
        if key.startswith("__"):
            raise AttributeError(key)
        return Variable.get(key, deserialize_json=self._json)

    def get(self, key: str, default_var: Any = None) -> Any:
        return Variable.get(key, default_var=default_var, deserialize_json=self._json)

    def __repr__(self) -> str:
        return f"<var.{'json' if self._json else 'value'}>"


class _Variables:
    def __init__(self) -> None:
        self.value = _VariableValues(deserialize_json=False)
        self.json = _VariableValues(deserialize_json=True)


class _Connections:
    """``conn.<conn_id>.host`` and ``conn.get(conn_id)``."""

    def __getattr__(self, conn_id: str) -> Connection:
        if conn_id.startswith("__"):
            raise AttributeError(conn_id)
        return BaseHook.get_connection(conn_id)

    def get(self, conn_id: str, default_conn: Connection | None = None) -> Connection | None:
        try:
            return BaseHook.get_connection(conn_id)
        except AirflowNotFoundException:
            return default_conn


def _ds(value: datetime | None) -> str | None:
    return value.strftime("%Y-%m-%d") if value is not None else None


def _ds_nodash(value: datetime | None) -> str | None:
    return value.strftime("%Y%m%d") if value is not None else None


def build_context(
    dag: DAG,
    task: BaseOperator,
    *,
    run_id: str,
    run_type: str,
    logical_date: datetime,
    data_interval_start: datetime,
    data_interval_end: datetime,
    conf: dict[str, Any] | None,
    try_number: int,
    max_tries: int,
    external_trigger: bool,
    test_mode: bool = False,
) -> Context:
    logical_date = ensure_utc(logical_date, field="logical_date")
    data_interval_start = ensure_utc(data_interval_start, field="data_interval_start")
    data_interval_end = ensure_utc(data_interval_end, field="data_interval_end")
    run_conf = dict(conf or {})
    # Airflow's rule for the legacy prev/next dates: a manual run's neighbours are itself.
    if external_trigger:
        prev_date: datetime | None = logical_date
        next_date: datetime | None = logical_date
    else:
        timetable = timetable_for(dag.schedule)
        prev_date = timetable.previous_logical_date(logical_date)
        next_date = timetable.next_logical_date(logical_date)
    ds = logical_date.strftime("%Y-%m-%d")
    ds_nodash = ds.replace("-", "")
    ts = logical_date.isoformat()
    params = {**dag.params, **task.params, **run_conf}
    dag_run = DagRun(
        dag_id=dag.dag_id,
        run_id=run_id,
        run_type=run_type,
        logical_date=logical_date,
        data_interval_start=data_interval_start,
        data_interval_end=data_interval_end,
        external_trigger=external_trigger,
        conf=run_conf,
    )
    ti = TaskInstance(
        task, run_id=run_id, logical_date=logical_date, try_number=try_number, max_tries=max_tries
    )
    yesterday = logical_date - timedelta(days=1)
    tomorrow = logical_date + timedelta(days=1)
    return {
        "conf": airflow_conf,
        "dag": dag,
        "dag_run": dag_run,
        "data_interval_start": data_interval_start,
        "data_interval_end": data_interval_end,
        "ds": ds,
        "ds_nodash": ds_nodash,
        "execution_date": logical_date,
        "inlets": task.inlets,
        "logical_date": logical_date,
        "macros": macros,
        "next_ds": _ds(next_date),
        "next_ds_nodash": _ds_nodash(next_date),
        "next_execution_date": next_date,
        "outlets": task.outlets,
        "params": params,
        "prev_data_interval_start_success": None,
        "prev_data_interval_end_success": None,
        "prev_ds": _ds(prev_date),
        "prev_ds_nodash": _ds_nodash(prev_date),
        "prev_execution_date": prev_date,
        "prev_execution_date_success": None,
        "prev_start_date_success": None,
        "run_id": run_id,
        "task": task,
        "task_instance": ti,
        "task_instance_key_str": f"{dag.dag_id}__{task.task_id}__{ds_nodash}",
        "templates_dict": None,
        "test_mode": test_mode,
        "ti": ti,
        "tomorrow_ds": _ds(tomorrow),
        "tomorrow_ds_nodash": _ds_nodash(tomorrow),
        "try_number": try_number,
        "ts": ts,
        "ts_nodash": logical_date.strftime("%Y%m%dT%H%M%S"),
        "ts_nodash_with_tz": ts.replace("-", "").replace(":", ""),
        "var": _Variables(),
        "conn": _Connections(),
        "yesterday_ds": _ds(yesterday),
        "yesterday_ds_nodash": _ds_nodash(yesterday),
    }
