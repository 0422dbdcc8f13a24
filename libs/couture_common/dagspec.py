"""The parsed, serialisable shape of a DAG: what the parser emits and the scheduler plans with.

DAG code never runs outside a parser or task process; everything the scheduler, gateway and
UI know about a DAG is this structure, carried in a ``DagParsed`` event.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

import msgspec

ScheduleKind = Literal["none", "once", "cron", "delta"]

TRIGGER_RULES: frozenset[str] = frozenset(
    {
        "all_success",
        "all_failed",
        "all_done",
        "all_done_min_one_success",
        "one_success",
        "one_failed",
        "one_done",
        "none_failed",
        "none_failed_min_one_success",
        "none_skipped",
        "all_skipped",
        "always",
    }
)


class ScheduleSpec(msgspec.Struct, frozen=True, kw_only=True):
    """When runs are created.

    kind: ``none`` (manual only), ``once`` (a single run at start_date), ``cron`` (expression in
    ``cron``, presets already expanded) or ``delta`` (fixed interval of ``delta_seconds``).
    """

    kind: ScheduleKind
    cron: str | None = None
    delta_seconds: float | None = None
    #: The user's original text (``@daily``, ``timedelta(days=1)``...), for display.
    display: str | None = None


class TaskSpec(msgspec.Struct, frozen=True, kw_only=True):
    """One task as the scheduler sees it. Durations are seconds."""

    task_id: str
    operator: str
    upstream: tuple[str, ...] = ()
    trigger_rule: str = "all_success"
    retries: int = 0
    retry_delay: float = 300.0
    retry_exponential_backoff: bool = False
    max_retry_delay: float | None = None
    depends_on_past: bool = False
    wait_for_downstream: bool = False
    execution_timeout: float | None = None
    pool: str = "default_pool"
    pool_slots: int = 1
    priority_weight: int = 1
    weight_rule: str = "downstream"
    queue: str = "default"
    sla: float | None = None
    owner: str = "airflow"
    description: str | None = None
    doc_md: str | None = None
    start_date: datetime | None = None
    end_date: datetime | None = None
    #: EmptyOperator / DummyOperator: the scheduler marks it success without an executor.
    is_empty: bool = False
    #: ShortCircuitOperator skips every downstream task regardless of trigger rules.
    ignore_downstream_trigger_rules: bool = True
    template_fields: tuple[str, ...] = ()
    ui_color: str = "#fff"
    ui_fgcolor: str = "#000"
    email: tuple[str, ...] = ()
    #: Operator-specific arguments shown in the UI (JSON-safe, secrets never included).
    operator_extra: dict[str, Any] = {}


class DagSpec(msgspec.Struct, frozen=True, kw_only=True):
    dag_id: str
    fileloc: str
    schedule: ScheduleSpec
    tasks: tuple[TaskSpec, ...]
    description: str | None = None
    start_date: datetime | None = None
    end_date: datetime | None = None
    catchup: bool = True
    max_active_runs: int = 16
    max_active_tasks: int = 16
    dagrun_timeout: float | None = None
    params: dict[str, Any] = {}
    tags: tuple[str, ...] = ()
    owner: str = "airflow"
    is_paused_upon_creation: bool | None = None
    doc_md: str | None = None
    timezone: str = "UTC"
    has_sla_miss_callback: bool = False
    has_on_failure_callback: bool = False
    has_on_success_callback: bool = False

    def task(self, task_id: str) -> TaskSpec:
        for t in self.tasks:
            if t.task_id == task_id:
                return t
        raise KeyError(task_id)
