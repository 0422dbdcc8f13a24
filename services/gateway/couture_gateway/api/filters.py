"""Airflow's list filters: ``*_pattern`` (SQL LIKE, case-insensitive, ``%``/``_`` wildcards) and
``*_gte/_gt/_lte/_lt`` ranges."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from fastapi import Depends
from sqlalchemy import ColumnElement

from couture_common.clock import ensure_utc


def pattern(column: ColumnElement[Any], value: str | None) -> list[ColumnElement[bool]]:
    """Matches ``value`` anywhere in the column, as Airflow's ``dag_id_pattern`` and kin do."""
    if not value or value == "~":
        return []
    return [column.ilike(f"%{value}%")]


def prefix(column: ColumnElement[Any], value: str | None) -> list[ColumnElement[bool]]:
    if not value:
        return []
    escaped = value.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return [column.like(f"{escaped}%", escape="\\")]


def value_range(
    column: ColumnElement[Any],
    *,
    gte: datetime | float | None = None,
    gt: datetime | float | None = None,
    lte: datetime | float | None = None,
    lt: datetime | float | None = None,
) -> list[ColumnElement[bool]]:
    """Bounds on ``column``; a datetime without a zone is taken as UTC (Airflow's rule)."""
    gte, gt, lte, lt = (ensure_utc(v) if isinstance(v, datetime) else v for v in (gte, gt, lte, lt))
    clauses: list[ColumnElement[bool]] = []
    if gte is not None:
        clauses.append(column >= gte)
    if gt is not None:
        clauses.append(column > gt)
    if lte is not None:
        clauses.append(column <= lte)
    if lt is not None:
        clauses.append(column < lt)
    return clauses


RANGE_OPS = ("gte", "gt", "lte", "lt")
#: The datetime columns runs and task instances can be filtered on by range.
RANGED_DATES = ("run_after", "logical_date", "start_date", "end_date")
DateRanges = dict[str, dict[str, datetime | None]]


async def date_ranges(
    run_after_gte: datetime | None = None,
    run_after_gt: datetime | None = None,
    run_after_lte: datetime | None = None,
    run_after_lt: datetime | None = None,
    logical_date_gte: datetime | None = None,
    logical_date_gt: datetime | None = None,
    logical_date_lte: datetime | None = None,
    logical_date_lt: datetime | None = None,
    start_date_gte: datetime | None = None,
    start_date_gt: datetime | None = None,
    start_date_lte: datetime | None = None,
    start_date_lt: datetime | None = None,
    end_date_gte: datetime | None = None,
    end_date_gt: datetime | None = None,
    end_date_lte: datetime | None = None,
    end_date_lt: datetime | None = None,
) -> DateRanges:
    """The ``<column>_<op>`` query parameters, grouped by column."""
    given = locals()
    return {column: {op: given[f"{column}_{op}"] for op in RANGE_OPS} for column in RANGED_DATES}


DateRangesDep = Annotated[DateRanges, Depends(date_ranges)]
