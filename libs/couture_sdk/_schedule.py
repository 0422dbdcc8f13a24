"""A DAG's ``schedule`` / ``schedule_interval`` argument turned into a :class:`ScheduleSpec`."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from croniter import croniter

from couture_common.dagspec import ScheduleSpec

PRESETS: dict[str, str] = {
    "@hourly": "0 * * * *",
    "@daily": "0 0 * * *",
    "@midnight": "0 0 * * *",
    "@weekly": "0 0 * * 0",
    "@monthly": "0 0 1 * *",
    "@quarterly": "0 0 1 */3 *",
    "@yearly": "0 0 1 1 *",
    "@annually": "0 0 1 1 *",
}


def schedule_spec(value: Any, *, dag_id: str) -> ScheduleSpec:
    if value is None:
        return ScheduleSpec(kind="none")
    if isinstance(value, timedelta):
        if value <= timedelta(0):
            raise ValueError(f"schedule_interval of DAG '{dag_id}' must be a positive timedelta, got {value}")
        return ScheduleSpec(kind="delta", delta_seconds=value.total_seconds(), display=_timedelta_text(value))
    if isinstance(value, str):
        text = value.strip()
        if text == "@once":
            return ScheduleSpec(kind="once", display=text)
        cron = PRESETS.get(text, text)
        if not croniter.is_valid(cron) or len(cron.split()) != 5:
            raise ValueError(
                f"schedule_interval of DAG '{dag_id}' is not a valid cron expression or preset: {value!r} "
                f"(presets: @once, {', '.join(PRESETS)})"
            )
        return ScheduleSpec(kind="cron", cron=cron, display=text)
    raise TypeError(
        f"schedule_interval of DAG '{dag_id}' must be a cron string, a preset, a timedelta or None, "
        f"got {type(value).__name__}"
    )


def _timedelta_text(value: timedelta) -> str:
    parts = []
    if value.days:
        parts.append(f"days={value.days}")
    if value.seconds:
        parts.append(f"seconds={value.seconds}")
    if value.microseconds:
        parts.append(f"microseconds={value.microseconds}")
    return f"timedelta({', '.join(parts)})"
