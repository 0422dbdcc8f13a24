"""``macros`` in templates (``{{ macros.ds_add(ds, 7) }}``) and Airflow's date filters."""

from __future__ import annotations

import json
import random
import time
import uuid
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

import dateutil
import dateutil.parser
import dateutil.relativedelta

__all__ = ["datetime", "dateutil", "ds_add", "ds_format", "json", "random", "time", "timedelta", "uuid"]


def ds_add(ds: str, days: int) -> str:
    """``ds_add('2015-01-01', 5)`` is ``'2015-01-06'``."""
    if not days:
        return str(ds)
    return (datetime.strptime(str(ds), "%Y-%m-%d") + timedelta(days=days)).strftime("%Y-%m-%d")


def ds_format(ds: str, input_format: str, output_format: str) -> str:
    """``ds_format('2015-01-01', '%Y-%m-%d', '%m-%d-%y')`` is ``'01-01-15'``."""
    return datetime.strptime(str(ds), input_format).strftime(output_format)


def _ds(value: datetime) -> str:
    return value.strftime("%Y-%m-%d")


def _ds_nodash(value: datetime) -> str:
    return value.strftime("%Y%m%d")


def _ts(value: datetime) -> str:
    return value.isoformat()


def _ts_nodash(value: datetime) -> str:
    return value.strftime("%Y%m%dT%H%M%S")


def _ts_nodash_with_tz(value: datetime) -> str:
    return value.isoformat().replace("-", "").replace(":", "")


TEMPLATE_FILTERS: dict[str, Callable[[Any], str]] = {
    "ds": _ds,
    "ds_nodash": _ds_nodash,
    "ts": _ts,
    "ts_nodash": _ts_nodash,
    "ts_nodash_with_tz": _ts_nodash_with_tz,
}
