"""``airflow.utils.dates``: the one helper DAG files still use from it."""

from __future__ import annotations

from datetime import datetime, timedelta

from couture_common.clock import utcnow


def days_ago(n: int, hour: int = 0, minute: int = 0, second: int = 0, microsecond: int = 0) -> datetime:
    """Midnight UTC of today minus ``n`` days (a parse-time value, as in Airflow)."""
    today = utcnow().replace(hour=hour, minute=minute, second=second, microsecond=microsecond)
    return today - timedelta(days=n)
