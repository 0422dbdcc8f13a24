"""BaseOperator: one task of a DAG, its Airflow arguments, dependencies and templated fields."""

from __future__ import annotations

import functools
import inspect
import itertools
from collections.abc import Callable, Iterable, Sequence
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any, ClassVar

import jinja2

from couture_sdk import _validation as v
from couture_sdk.dag import DAG, DagContext
from couture_sdk.exceptions import AirflowException
from couture_sdk.trigger_rule import canonical_trigger_rule

if TYPE_CHECKING:
    from couture_sdk.taskinstance import TaskInstance

WEIGHT_RULES = frozenset({"downstream", "upstream", "absolute"})
_CALLBACKS = (
    "on_execute_callback",
    "on_failure_callback",
    "on_success_callback",
    "on_retry_callback",
    "pre_execute",
    "post_execute",
)


_SIGNATURES: dict[Callable[..., None], tuple[frozenset[str], frozenset[str]]] = {}


def _signature(init: Callable[..., None]) -> tuple[frozenset[str], frozenset[str]]:
    """The keyword arguments one ``__init__`` names, and those of them without a default."""
    cached = _SIGNATURES.get(init)
    if cached is None:
        parameters = [
            p
            for p in inspect.signature(init).parameters.values()
            if p.name != "self" and p.kind not in (p.VAR_POSITIONAL, p.VAR_KEYWORD)
        ]
        names = frozenset(p.name for p in parameters)
        cached = names, frozenset(p.name for p in parameters if p.default is p.empty)
        _SIGNATURES[init] = cached
    return cached


def _apply_defaults(init: Callable[..., None]) -> Callable[..., None]:
    """Airflow's ``apply_defaults``, level by level: each ``__init__`` in the chain of
    ``super().__init__`` calls takes the arguments it names and was not given from the DAG's and
    the task's ``default_args``; the DAG's params are merged under the task's."""
    names, required = _signature(init)

    @functools.wraps(init)
    def wrapper(self: BaseOperator, *args: Any, **kwargs: Any) -> None:
        if args:
            raise AirflowException(
                f"Use keyword arguments when initializing operators ({type(self).__name__})"
            )
        outermost = self._init_defaults is None
        if outermost:
            self._init_defaults, self._init_params = _collect_defaults(self, kwargs)
        else:
            kwargs.pop("default_args", None)
        defaults, params = self._init_defaults or {}, self._init_params
        for name in names - kwargs.keys() - {"params", "dag"}:
            if name in defaults:
                kwargs[name] = defaults[name]
        if "params" in names:
            given = v.as_dict(kwargs.get("params"), field="params", owner=type(self).__name__)
            kwargs["params"] = {**params, **given}
        missing = sorted(required - kwargs.keys())
        if missing:
            raise AirflowException(
                f"{type(self).__name__} is missing required argument(s): {', '.join(missing)}"
            )
        try:
            init(self, **kwargs)
        finally:
            if outermost:
                self._init_defaults, self._init_params = None, {}

    return wrapper


def _collect_defaults(task: BaseOperator, kwargs: dict[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
    """The DAG's default_args under the task's own, and the DAG's params under the task's."""
    dag = kwargs.get("dag") or DagContext.current()
    if dag is not None and not isinstance(dag, DAG):
        raise TypeError(f"dag of {type(task).__name__} must be a DAG, got {type(dag).__name__}")
    defaults = dict(dag.default_args) if dag else {}
    own_defaults = kwargs.pop("default_args", None) or {}
    if not isinstance(own_defaults, dict):
        raise TypeError(f"default_args of {type(task).__name__} must be a dict")
    defaults.update(own_defaults)
    params = dict(dag.params) if dag else {}
    params.update(defaults.get("params") or {})
    params.update(v.as_dict(kwargs.get("params"), field="params", owner=type(task).__name__))
    return defaults, params


class BaseOperator:
    """A task. Subclasses implement :meth:`execute`; its return value becomes the XCom
    ``return_value``."""

    template_fields: ClassVar[Sequence[str]] = ()
    template_ext: ClassVar[Sequence[str]] = ()
    ui_color: ClassVar[str] = "#fff"
    ui_fgcolor: ClassVar[str] = "#000"
    #: EmptyOperator: done by the scheduler without an executor.
    is_empty: ClassVar[bool] = False
    #: The default_args and params being applied while the chain of ``__init__`` calls runs.
    _init_defaults: dict[str, Any] | None = None
    _init_params: dict[str, Any] = {}

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        if "__init__" in cls.__dict__:
            cls.__init__ = _apply_defaults(cls.__dict__["__init__"])  # type: ignore[method-assign]

    def __init__(
        self,
        *,
        task_id: str,
        owner: str = "airflow",
        email: str | Iterable[str] | None = None,
        email_on_retry: bool = True,
        email_on_failure: bool = True,
        retries: int | None = 0,
        retry_delay: timedelta | float = timedelta(seconds=300),
        retry_exponential_backoff: bool = False,
        max_retry_delay: timedelta | float | None = None,
        start_date: datetime | None = None,
        end_date: datetime | None = None,
        depends_on_past: bool = False,
        ignore_first_depends_on_past: bool = True,
        wait_for_downstream: bool = False,
        dag: DAG | None = None,
        params: dict[str, Any] | None = None,
        priority_weight: int = 1,
        weight_rule: str = "downstream",
        queue: str = "default",
        pool: str | None = None,
        pool_slots: int = 1,
        sla: timedelta | None = None,
        execution_timeout: timedelta | float | None = None,
        on_execute_callback: Callable[..., Any] | None = None,
        on_failure_callback: Callable[..., Any] | None = None,
        on_success_callback: Callable[..., Any] | None = None,
        on_retry_callback: Callable[..., Any] | None = None,
        pre_execute: Callable[..., Any] | None = None,
        post_execute: Callable[..., Any] | None = None,
        trigger_rule: str = "all_success",
        run_as_user: str | None = None,
        max_active_tis_per_dag: int | None = None,
        task_concurrency: int | None = None,
        executor_config: dict[str, Any] | None = None,
        do_xcom_push: bool = True,
        inlets: Any = None,
        outlets: Any = None,
        resources: dict[str, Any] | None = None,
        doc: str | None = None,
        doc_md: str | None = None,
        doc_rst: str | None = None,
        doc_json: str | None = None,
        doc_yaml: str | None = None,
        description: str | None = None,
        **kwargs: Any,
    ) -> None:
        name = type(self).__name__
        if kwargs:
            raise AirflowException(
                f"Invalid arguments were passed to {name} (task_id: {task_id}). "
                f"Invalid arguments were:\n**kwargs: {kwargs}"
            )
        self.task_id = v.check_key(task_id, field="task_id")
        who = f"task '{task_id}'"
        self.owner = v.check_type(owner, str, field="owner", owner=who)
        self.email = v.as_str_tuple(email, field="email", owner=who)
        self.email_on_retry = v.check_type(email_on_retry, bool, field="email_on_retry", owner=who)
        self.email_on_failure = v.check_type(email_on_failure, bool, field="email_on_failure", owner=who)
        self.retries = v.check_non_negative_int(retries or 0, field="retries", owner=who)
        self.retry_delay = v.as_duration(retry_delay, field="retry_delay", owner=who) or timedelta(0)
        self.retry_exponential_backoff = v.check_type(
            retry_exponential_backoff, bool, field="retry_exponential_backoff", owner=who
        )
        self.max_retry_delay = v.as_duration(max_retry_delay, field="max_retry_delay", owner=who)
        self.start_date = v.as_utc(start_date, field="start_date", owner=who)
        self.end_date = v.as_utc(end_date, field="end_date", owner=who)
        self.wait_for_downstream = v.check_type(
            wait_for_downstream, bool, field="wait_for_downstream", owner=who
        )
        # Waiting for the previous run's downstream implies waiting for the task itself.
        self.depends_on_past = (
            v.check_type(depends_on_past, bool, field="depends_on_past", owner=who)
            or self.wait_for_downstream
        )
        self.ignore_first_depends_on_past = ignore_first_depends_on_past
        self.params: dict[str, Any] = v.as_dict(params, field="params", owner=who)
        self.priority_weight = v.check_type(priority_weight, int, field="priority_weight", owner=who)
        if weight_rule not in WEIGHT_RULES:
            raise ValueError(
                f"weight_rule of {who} must be one of {sorted(WEIGHT_RULES)}, got {weight_rule!r}"
            )
        self.weight_rule = weight_rule
        self.queue = v.check_type(queue, str, field="queue", owner=who)
        self.pool = v.check_key(pool, field=f"pool of {who}") if pool is not None else "default_pool"
        self.pool_slots = v.check_positive_int(pool_slots, field="pool_slots", owner=who)
        self.sla = v.as_duration(sla, field="sla", owner=who)
        self.execution_timeout = v.as_duration(execution_timeout, field="execution_timeout", owner=who)
        callbacks = {
            "on_execute_callback": on_execute_callback,
            "on_failure_callback": on_failure_callback,
            "on_success_callback": on_success_callback,
            "on_retry_callback": on_retry_callback,
            "pre_execute": pre_execute,
            "post_execute": post_execute,
        }
        for cb_name in _CALLBACKS:
            if callbacks[cb_name] is not None and not callable(callbacks[cb_name]):
                raise TypeError(f"{cb_name} of {who} must be callable")
        self.on_execute_callback = on_execute_callback
        self.on_failure_callback = on_failure_callback
        self.on_success_callback = on_success_callback
        self.on_retry_callback = on_retry_callback
        self._pre_execute_hook = pre_execute
        self._post_execute_hook = post_execute
        self.trigger_rule = canonical_trigger_rule(trigger_rule)
        self.run_as_user = run_as_user
        self.max_active_tis_per_dag = (
            max_active_tis_per_dag if max_active_tis_per_dag is not None else task_concurrency
        )
        self.executor_config = executor_config or {}
        self.do_xcom_push = v.check_type(do_xcom_push, bool, field="do_xcom_push", owner=who)
        self.inlets = list(inlets) if isinstance(inlets, list | tuple) else ([inlets] if inlets else [])
        self.outlets = list(outlets) if isinstance(outlets, list | tuple) else ([outlets] if outlets else [])
        self.resources = resources
        self.doc, self.doc_rst, self.doc_json, self.doc_yaml = doc, doc_rst, doc_json, doc_yaml
        self.doc_md = v.check_optional(doc_md, str, field="doc_md", owner=who)
        self.description = v.check_optional(description, str, field="description", owner=who)
        self._upstream: dict[str, None] = {}
        self._downstream: dict[str, None] = {}
        self._dag: DAG | None = None
        dag = dag if dag is not None else DagContext.current()
        if dag is not None:
            dag.add_task(self)

    def __repr__(self) -> str:
        return f"<Task({type(self).__name__}): {self.task_id}>"

    # The DAG ------------------------------------------------------------------------------

    @property
    def dag(self) -> DAG:
        if self._dag is None:
            raise AirflowException(f"Operator {self} has not been assigned to a DAG yet")
        return self._dag

    @dag.setter
    def dag(self, dag: DAG) -> None:
        if not isinstance(dag, DAG):
            raise TypeError(f"dag of task '{self.task_id}' must be a DAG, got {type(dag).__name__}")
        if self._dag is not None and self._dag is not dag:
            raise AirflowException(f"The DAG assigned to {self} can not be changed.")
        dag.add_task(self)

    def has_dag(self) -> bool:
        return self._dag is not None

    @property
    def dag_id(self) -> str:
        return self._dag.dag_id if self._dag is not None else f"adhoc_{self.owner}"

    # Dependencies -------------------------------------------------------------------------

    @property
    def upstream_task_ids(self) -> set[str]:
        return set(self._upstream)

    @property
    def downstream_task_ids(self) -> set[str]:
        return set(self._downstream)

    @property
    def upstream_list(self) -> list[BaseOperator]:
        return [self.dag.get_task(t) for t in self._upstream]

    @property
    def downstream_list(self) -> list[BaseOperator]:
        return [self.dag.get_task(t) for t in self._downstream]

    def get_direct_relative_ids(self, upstream: bool = False) -> set[str]:
        return self.upstream_task_ids if upstream else self.downstream_task_ids

    def get_flat_relative_ids(self, upstream: bool = False) -> set[str]:
        """Every task reachable downstream (or upstream) of this one."""
        found: set[str] = set()
        pending = list(self.get_direct_relative_ids(upstream))
        while pending:
            task_id = pending.pop()
            if task_id in found:
                continue
            found.add(task_id)
            pending.extend(self.dag.get_task(task_id).get_direct_relative_ids(upstream))
        return found

    def set_upstream(self, task_or_task_list: BaseOperator | Sequence[BaseOperator]) -> None:
        self._set_relatives(task_or_task_list, upstream=True)

    def set_downstream(self, task_or_task_list: BaseOperator | Sequence[BaseOperator]) -> None:
        self._set_relatives(task_or_task_list, upstream=False)

    def _set_relatives(
        self, task_or_task_list: BaseOperator | Sequence[BaseOperator], *, upstream: bool
    ) -> None:
        tasks = (
            [task_or_task_list] if isinstance(task_or_task_list, BaseOperator) else list(task_or_task_list)
        )
        for task in tasks:
            if not isinstance(task, BaseOperator):
                raise AirflowException(
                    f"Relationships can only be set between Operators; received {type(task).__name__}"
                )
        dags = {id(t._dag): t._dag for t in [self, *tasks] if t._dag is not None}
        if len(dags) > 1:
            names = sorted(d.dag_id for d in dags.values())
            raise AirflowException(f"Tried to set relationships between tasks in more than one DAG: {names}")
        if not dags:
            raise AirflowException(
                "Tried to create relationships between tasks that don't have DAGs yet. "
                f"Set the DAG for at least one task and try again: {[self, *tasks]}"
            )
        (dag,) = dags.values()
        for task in [self, *tasks]:
            dag.add_task(task)
        for task in tasks:
            if upstream:
                task._downstream[self.task_id] = None
                self._upstream[task.task_id] = None
            else:
                self._downstream[task.task_id] = None
                task._upstream[self.task_id] = None

    def __rshift__(self, other: Any) -> Any:
        self.set_downstream(other)
        return other

    def __lshift__(self, other: Any) -> Any:
        self.set_upstream(other)
        return other

    def __rrshift__(self, other: Any) -> BaseOperator:
        self.set_upstream(other)
        return self

    def __rlshift__(self, other: Any) -> BaseOperator:
        self.set_downstream(other)
        return self

    # Templates ----------------------------------------------------------------------------

    def get_template_env(self) -> jinja2.Environment:
        return self.dag.get_template_env()

    def render_template_fields(
        self, context: dict[str, Any], jinja_env: jinja2.Environment | None = None
    ) -> None:
        env = jinja_env or self.get_template_env()
        for field in self.template_fields:
            try:
                rendered = self.render_template(getattr(self, field), context, env)
            except Exception as exc:
                raise AirflowException(f"Could not render template field {field!r} of {self}: {exc}") from exc
            setattr(self, field, rendered)

    def render_template(self, content: Any, context: dict[str, Any], env: jinja2.Environment) -> Any:
        if isinstance(content, str):
            if self.template_ext and content.endswith(tuple(self.template_ext)):
                return env.get_template(content).render(**context)
            return env.from_string(content).render(**context)
        if isinstance(content, tuple):
            if hasattr(content, "_fields"):
                return type(content)(*(self.render_template(e, context, env) for e in content))
            return tuple(self.render_template(e, context, env) for e in content)
        if isinstance(content, list):
            return [self.render_template(e, context, env) for e in content]
        if isinstance(content, dict):
            return {k: self.render_template(e, context, env) for k, e in content.items()}
        if isinstance(content, set):
            return {self.render_template(e, context, env) for e in content}
        nested = getattr(content, "template_fields", None)
        if nested and not isinstance(content, BaseOperator):
            for field in nested:
                setattr(content, field, self.render_template(getattr(content, field), context, env))
        return content

    # Running ------------------------------------------------------------------------------

    def pre_execute(self, context: dict[str, Any]) -> None:
        if self._pre_execute_hook is not None:
            self._pre_execute_hook(context)

    def execute(self, context: dict[str, Any]) -> Any:
        raise NotImplementedError(f"{type(self).__name__} does not implement execute()")

    def post_execute(self, context: dict[str, Any], result: Any = None) -> None:
        if self._post_execute_hook is not None:
            self._post_execute_hook(context, result)

    def on_kill(self) -> None:
        """Stop whatever execute() started; called when the task times out or is killed."""

    def skip_all_except(self, ti: TaskInstance, branch_task_ids: str | Iterable[str] | None) -> None:
        """Skip the direct downstream tasks not chosen (BranchPythonOperator's rule)."""
        chosen = {branch_task_ids} if isinstance(branch_task_ids, str) else set(branch_task_ids or ())
        invalid = chosen - set(self.dag.task_ids)
        if invalid:
            raise AirflowException(
                f"'branch_task_ids' must contain only valid task_ids. Invalid tasks found: {sorted(invalid)}"
            )
        ti.skip_downstream = tuple(sorted(self.downstream_task_ids - chosen))

    def spec_extra(self) -> dict[str, Any]:
        """Operator-specific arguments shown in the UI; never anything secret."""
        return {}


def apply_defaults(func: Callable[..., None]) -> Callable[..., None]:
    """Airflow 1.10's decorator for custom operators' ``__init__``. Defaults now apply to every
    operator on their own, as in Airflow 2, so it changes nothing; 1.10 DAG files still import it."""
    return func


def chain(*tasks: BaseOperator | Sequence[BaseOperator]) -> None:
    """``chain(a, [b, c], d)``: each element downstream of the one before it."""
    for up, down in itertools.pairwise(tasks):
        if isinstance(up, BaseOperator):
            up.set_downstream(down)
        elif isinstance(down, BaseOperator):
            down.set_upstream(up)
        else:
            if len(up) != len(down):
                raise AirflowException(
                    f"Chain not supported for different length Iterable. Got {len(up)} and {len(down)}."
                )
            for u, d in zip(up, down, strict=True):
                u.set_downstream(d)


def cross_downstream(from_tasks: Sequence[BaseOperator], to_tasks: Sequence[BaseOperator]) -> None:
    for task in from_tasks:
        task.set_downstream(to_tasks)


BaseOperator.__init__ = _apply_defaults(BaseOperator.__init__)  # type: ignore[method-assign]
