"""The one place that reads the wall clock; domain code takes time as an argument instead."""

from __future__ import annotations

from datetime import UTC, datetime


def utcnow() -> datetime:
    return datetime.now(UTC)


def ensure_utc(value: datetime, *, field: str = "datetime") -> datetime:
    """Aware UTC datetimes only cross service boundaries; naive ones are taken as UTC (Airflow's rule)."""
    if value.tzinfo is None:
        return value.replace(tzinfo=UTC)
    return value.astimezone(UTC)
