"""The next automated run of a DAG, as Airflow shows it in ``next_dagrun_*``.

Computed when read, not stored: with catchup off it depends on the current time, and timetable
arithmetic (croniter) costs about a millisecond, too much for every scheduled run of a replay.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import msgspec

from couture_common.dagspec import ScheduleSpec
from couture_common.timetables import DataInterval, TimeRestriction, timetable_for
from couture_gateway.readmodels.rowset import Row

NEXT_DAGRUN_COLUMNS = (
    "next_dagrun_logical_date",
    "next_dagrun_data_interval_start",
    "next_dagrun_data_interval_end",
    "next_dagrun_run_after",
)


def following_logical_date(dag: Row, interval_end: datetime) -> datetime | None:
    """The next run's logical date right after an automated run whose interval ended at ``interval_end``.

    Periodic intervals are contiguous, so it is that end, unless the DAG's end_date is passed; ``@once``
    has no next run. Cheap, unlike ``next_dagrun``: it runs for every scheduled run.
    """
    periodic = dag["schedule"] is not None and dag["schedule"]["kind"] in ("cron", "delta")
    if not periodic or (dag["end_date"] is not None and interval_end > dag["end_date"]):
        return None
    return interval_end


def next_dagrun(dag: Row, now: datetime) -> dict[str, Any]:
    """``next_dagrun_*`` fields of ``dag`` (a ``dag`` table row) at ``now``; all None when none is due."""
    info = None
    if dag["schedule"] is not None:
        timetable = timetable_for(msgspec.convert(dag["schedule"], ScheduleSpec))
        start, end = dag["last_automated_data_interval_start"], dag["last_automated_data_interval_end"]
        last = None if start is None else DataInterval(start, end)
        info = timetable.next_dagrun_info(
            last_automated_data_interval=last,
            restriction=TimeRestriction(dag["start_date"], dag["end_date"], dag["catchup"]),
            now=now,
        )
    if info is None:
        return dict.fromkeys(NEXT_DAGRUN_COLUMNS)
    return {
        "next_dagrun_logical_date": info.logical_date,
        "next_dagrun_data_interval_start": info.data_interval.start,
        "next_dagrun_data_interval_end": info.data_interval.end,
        "next_dagrun_run_after": info.run_after,
    }
