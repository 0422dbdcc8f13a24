"""The DAG: a named set of tasks and their dependencies, with its schedule and defaults."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import datetime, timedelta
from pathlib import Path
from types import TracebackType
from typing import TYPE_CHECKING, Any

import jinja2
import jinja2.nativetypes
import jinja2.sandbox

from couture_common.dagspec import DagSpec, ScheduleSpec
from couture_sdk import _validation as v
from couture_sdk._schedule import schedule_spec
from couture_sdk.exceptions import AirflowDagCycleException, AirflowException, DuplicateTaskIdFound

if TYPE_CHECKING:
    from couture_sdk.baseoperator import BaseOperator

_UNSET: Any = object()
#: Airflow 2's default when a DAG names no schedule.
DEFAULT_SCHEDULE = timedelta(days=1)


class DagContext:
    """The DAGs open in ``with DAG(...)`` blocks, innermost last.

    Operators created inside a block join the innermost DAG. While a DAG file is loaded, every
    DAG entered is also collected, so that one never bound to a module-level name is still found.
    """

    _stack: list[DAG] = []
    _collected: list[DAG] | None = None

    @classmethod
    def current(cls) -> DAG | None:
        return cls._stack[-1] if cls._stack else None

    @classmethod
    def entered(cls, dag: DAG) -> None:
        cls._stack.append(dag)
        if cls._collected is not None:
            cls._collected.append(dag)

    @classmethod
    def exited(cls, dag: DAG) -> None:
        cls._stack.remove(dag)

    @classmethod
    def start_collecting(cls) -> None:
        cls._stack.clear()
        cls._collected = []

    @classmethod
    def stop_collecting(cls) -> list[DAG]:
        """The DAGs entered since :meth:`start_collecting`; collecting stops."""
        collected, cls._collected = cls._collected or [], None
        cls._stack.clear()
        return collected

    @classmethod
    def reset(cls) -> None:
        cls._stack.clear()
        cls._collected = None


class DAG:
    def __init__(
        self,
        dag_id: str,
        description: str | None = None,
        schedule_interval: Any = _UNSET,
        *,
        schedule: Any = _UNSET,
        start_date: datetime | None = None,
        end_date: datetime | None = None,
        default_args: dict[str, Any] | None = None,
        params: dict[str, Any] | None = None,
        max_active_tasks: int | None = None,
        concurrency: int | None = None,
        max_active_runs: int = 16,
        dagrun_timeout: timedelta | None = None,
        catchup: bool = True,
        tags: Iterable[str] | None = None,
        doc_md: str | None = None,
        is_paused_upon_creation: bool | None = None,
        on_success_callback: Callable[..., Any] | None = None,
        on_failure_callback: Callable[..., Any] | None = None,
        sla_miss_callback: Callable[..., Any] | None = None,
        template_searchpath: str | Iterable[str] | None = None,
        user_defined_macros: dict[str, Any] | None = None,
        user_defined_filters: dict[str, Callable[..., Any]] | None = None,
        render_template_as_native_obj: bool = False,
        default_view: str | None = None,
        orientation: str | None = None,
        access_control: dict[str, Any] | None = None,
        owner_links: dict[str, str] | None = None,
    ) -> None:
        self.dag_id = v.check_key(dag_id, field="dag_id")
        owner = f"DAG '{dag_id}'"
        self.default_args: dict[str, Any] = v.as_dict(default_args, field="default_args", owner=owner)
        self.description = v.check_optional(description, str, field="description", owner=owner)
        if schedule is not _UNSET and schedule_interval is not _UNSET:
            raise ValueError(f"DAG '{dag_id}' got both schedule and schedule_interval; use only one")
        raw_schedule = schedule if schedule is not _UNSET else schedule_interval
        self.schedule_interval: Any = DEFAULT_SCHEDULE if raw_schedule is _UNSET else raw_schedule
        self.schedule: ScheduleSpec = schedule_spec(self.schedule_interval, dag_id=dag_id)
        raw_start = start_date if start_date is not None else self.default_args.get("start_date")
        self.start_date = v.as_utc(raw_start, field="start_date", owner=owner)
        self.end_date = v.as_utc(
            end_date if end_date is not None else self.default_args.get("end_date"),
            field="end_date",
            owner=owner,
        )
        if self.start_date and self.end_date and self.end_date < self.start_date:
            raise ValueError(f"end_date of DAG '{dag_id}' is before its start_date")
        self.timezone = _timezone_name(raw_start)
        self.params: dict[str, Any] = v.as_dict(params, field="params", owner=owner)
        if max_active_tasks is not None and concurrency is not None:
            raise ValueError(
                f"DAG '{dag_id}' got both max_active_tasks and concurrency; use max_active_tasks"
            )
        tasks_limit = max_active_tasks if max_active_tasks is not None else concurrency
        self.max_active_tasks = v.check_positive_int(
            16 if tasks_limit is None else tasks_limit, field="max_active_tasks", owner=owner
        )
        self.max_active_runs = v.check_positive_int(max_active_runs, field="max_active_runs", owner=owner)
        self.dagrun_timeout = v.as_duration(dagrun_timeout, field="dagrun_timeout", owner=owner)
        self.catchup = v.check_type(catchup, bool, field="catchup", owner=owner)
        self.tags = v.as_str_tuple(tags, field="tags", owner=owner)
        self.doc_md = v.check_optional(doc_md, str, field="doc_md", owner=owner)
        self.is_paused_upon_creation = v.check_optional(
            is_paused_upon_creation, bool, field="is_paused_upon_creation", owner=owner
        )
        for name, callback in (
            ("on_success_callback", on_success_callback),
            ("on_failure_callback", on_failure_callback),
            ("sla_miss_callback", sla_miss_callback),
        ):
            if callback is not None and not callable(callback):
                raise TypeError(f"{name} of {owner} must be callable")
        self.on_success_callback = on_success_callback
        self.on_failure_callback = on_failure_callback
        self.sla_miss_callback = sla_miss_callback
        self.template_searchpath = v.as_str_tuple(
            template_searchpath, field="template_searchpath", owner=owner
        )
        self.user_defined_macros = v.as_dict(user_defined_macros, field="user_defined_macros", owner=owner)
        self.user_defined_filters = v.as_dict(user_defined_filters, field="user_defined_filters", owner=owner)
        self.render_template_as_native_obj = render_template_as_native_obj
        self.default_view = default_view
        self.orientation = orientation
        self.access_control = access_control
        self.owner_links = owner_links
        #: The file that defined the DAG; set by the loader.
        self.fileloc: str | None = None
        self.task_dict: dict[str, BaseOperator] = {}

    def __repr__(self) -> str:
        return f"<DAG: {self.dag_id}>"

    def __enter__(self) -> DAG:
        DagContext.entered(self)
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        DagContext.exited(self)

    @property
    def tasks(self) -> list[BaseOperator]:
        return list(self.task_dict.values())

    @property
    def task_ids(self) -> list[str]:
        return list(self.task_dict)

    @property
    def owner(self) -> str:
        owners = dict.fromkeys(t.owner for t in self.task_dict.values())
        return ", ".join(owners) or self.default_args.get("owner", "airflow")

    def has_task(self, task_id: str) -> bool:
        return task_id in self.task_dict

    def get_task(self, task_id: str) -> BaseOperator:
        try:
            return self.task_dict[task_id]
        except KeyError:
            raise KeyError(f"Task {task_id} not found") from None

    def add_task(self, task: BaseOperator) -> None:
        existing = self.task_dict.get(task.task_id)
        if existing is task:
            return
        if existing is not None:
            raise DuplicateTaskIdFound(f"Task id '{task.task_id}' has already been added to the DAG")
        # The task's own dates are narrowed to the DAG's window, as Airflow does.
        if self.start_date and (task.start_date is None or task.start_date < self.start_date):
            task.start_date = self.start_date
        if self.end_date and (task.end_date is None or task.end_date > self.end_date):
            task.end_date = self.end_date
        self.task_dict[task.task_id] = task
        task._dag = self

    def add_tasks(self, tasks: Iterable[BaseOperator]) -> None:
        for task in tasks:
            self.add_task(task)

    def check_cycle(self) -> None:
        """Airflow's depth-first walk, so the faulty task named is the one Airflow would name."""
        in_progress, done = 1, 2
        visited: dict[str, int] = {}
        for root in self.task_dict:
            if visited.get(root) == done:
                continue
            path = [root]
            while path:
                current = path[-1]
                visited.setdefault(current, in_progress)
                child = None
                for adjacent in sorted(self.task_dict[current].downstream_task_ids):
                    state = visited.get(adjacent)
                    if state == in_progress:
                        raise AirflowDagCycleException(
                            f"Cycle detected in DAG: {self.dag_id}. Faulty task: {current}"
                        )
                    if state is None:
                        child = adjacent
                        break
                if child is None:
                    visited[current] = done
                    path.pop()
                else:
                    path.append(child)

    def validate(self) -> None:
        """What the loader checks once the whole file has run."""
        self.check_cycle()
        if self.schedule.kind != "none" and self.start_date is None:
            undated = [t.task_id for t in self.task_dict.values() if t.start_date is None]
            if undated or not self.task_dict:
                raise AirflowException(
                    f"DAG '{self.dag_id}' has a schedule but no start_date; set start_date on the DAG "
                    "or in default_args"
                )

    def get_template_env(self) -> jinja2.Environment:
        """Built once per DAG object: the fork server loads each DAG once, so every try it forks
        inherits a ready environment instead of building one (about a millisecond) per try."""
        env: jinja2.Environment | None = self.__dict__.get("_template_env")
        if env is None:
            env = self.__dict__["_template_env"] = self._build_template_env()
        return env

    def _build_template_env(self) -> jinja2.Environment:
        searchpath = [str(Path(self.fileloc).parent)] if self.fileloc else []
        searchpath.extend(self.template_searchpath)
        env_class = (
            jinja2.nativetypes.NativeEnvironment
            if self.render_template_as_native_obj
            else jinja2.sandbox.SandboxedEnvironment
        )
        env = env_class(
            loader=jinja2.FileSystemLoader(searchpath),
            undefined=jinja2.Undefined,
            extensions=["jinja2.ext.do"],
            cache_size=0,
        )
        from couture_sdk.macros import TEMPLATE_FILTERS

        env.filters.update(TEMPLATE_FILTERS)
        env.filters.update(self.user_defined_filters)
        env.globals.update(self.user_defined_macros)
        return env

    def to_spec(self, fileloc: str | None = None) -> DagSpec:
        from couture_sdk._spec import dag_spec

        return dag_spec(self, fileloc if fileloc is not None else self.fileloc or "")


def _timezone_name(start_date: Any) -> str:
    tz = getattr(start_date, "tzinfo", None)
    key = getattr(tz, "key", None)
    return key if isinstance(key, str) else "UTC"
