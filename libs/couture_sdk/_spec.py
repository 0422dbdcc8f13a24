"""A loaded DAG turned into the serialisable :class:`DagSpec` the scheduler plans with."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import TYPE_CHECKING, Any

from couture_common.dagspec import DagSpec, TaskSpec

if TYPE_CHECKING:
    from couture_sdk.baseoperator import BaseOperator
    from couture_sdk.dag import DAG


def _seconds(value: timedelta | None) -> float | None:
    return value.total_seconds() if value is not None else None


def json_safe(value: Any) -> Any:
    """Params and operator arguments as JSON data, so a spec reads the same before and after
    it crosses the log; dates become ISO strings and anything else shows as its repr."""
    if value is None or isinstance(value, bool | int | float | str):
        return value
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, timedelta):
        return value.total_seconds()
    if isinstance(value, dict):
        return {str(k): json_safe(x) for k, x in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        return [json_safe(x) for x in value]
    return repr(value)


def _skips_the_executor(task: BaseOperator) -> bool:
    """Airflow's rule: an EmptyOperator is finished by the scheduler unless it has a callback
    or outlets that need a task process."""
    return (
        task.is_empty
        and task.on_execute_callback is None
        and task.on_success_callback is None
        and not task.outlets
    )


def task_spec(task: BaseOperator) -> TaskSpec:
    return TaskSpec(
        task_id=task.task_id,
        operator=type(task).__name__,
        upstream=tuple(sorted(task.upstream_task_ids)),
        trigger_rule=task.trigger_rule,
        retries=task.retries,
        retry_delay=task.retry_delay.total_seconds(),
        retry_exponential_backoff=task.retry_exponential_backoff,
        max_retry_delay=_seconds(task.max_retry_delay),
        depends_on_past=task.depends_on_past,
        wait_for_downstream=task.wait_for_downstream,
        execution_timeout=_seconds(task.execution_timeout),
        pool=task.pool,
        pool_slots=task.pool_slots,
        priority_weight=task.priority_weight,
        weight_rule=task.weight_rule,
        queue=task.queue,
        sla=_seconds(task.sla),
        owner=task.owner,
        description=task.description,
        doc_md=task.doc_md,
        start_date=task.start_date,
        end_date=task.end_date,
        is_empty=_skips_the_executor(task),
        ignore_downstream_trigger_rules=getattr(task, "ignore_downstream_trigger_rules", True),
        template_fields=tuple(task.template_fields),
        ui_color=task.ui_color,
        ui_fgcolor=task.ui_fgcolor,
        email=task.email,
        operator_extra=json_safe(task.spec_extra()),
    )


def dag_spec(dag: DAG, fileloc: str) -> DagSpec:
    return DagSpec(
        dag_id=dag.dag_id,
        fileloc=fileloc,
        schedule=dag.schedule,
        tasks=tuple(task_spec(t) for t in dag.task_dict.values()),
        description=dag.description,
        start_date=dag.start_date,
        end_date=dag.end_date,
        catchup=dag.catchup,
        max_active_runs=dag.max_active_runs,
        max_active_tasks=dag.max_active_tasks,
        dagrun_timeout=_seconds(dag.dagrun_timeout),
        params=json_safe(dag.params),
        tags=dag.tags,
        owner=dag.owner,
        is_paused_upon_creation=dag.is_paused_upon_creation,
        doc_md=dag.doc_md,
        timezone=dag.timezone,
        has_sla_miss_callback=dag.sla_miss_callback is not None,
        has_on_failure_callback=dag.on_failure_callback is not None,
        has_on_success_callback=dag.on_success_callback is not None,
    )
