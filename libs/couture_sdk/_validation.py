"""Argument checks shared by DAG and operators: each error names the argument at fault."""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import Any

from couture_common.clock import ensure_utc

_KEY = re.compile(r"^[\w.-]+$")
_KEY_MAX = 250


def check_key(value: object, *, field: str) -> str:
    if not isinstance(value, str):
        raise TypeError(f"{field} must be a string, got {type(value).__name__}")
    if not value or len(value) > _KEY_MAX or not _KEY.match(value):
        raise ValueError(
            f"{field} must be 1 to {_KEY_MAX} characters made of letters, digits, dashes, dots "
            f"and underscores, got {value!r}"
        )
    return value


def check_type(value: Any, types: type | tuple[type, ...], *, field: str, owner: str) -> Any:
    # bool is an int subclass; an int argument given True is a mistake worth reporting
    if isinstance(value, bool) and bool not in (types if isinstance(types, tuple) else (types,)):
        raise TypeError(f"{field} of {owner} must be {_names(types)}, got bool")
    if not isinstance(value, types):
        raise TypeError(f"{field} of {owner} must be {_names(types)}, got {type(value).__name__}")
    return value


def check_optional(value: Any, types: type | tuple[type, ...], *, field: str, owner: str) -> Any:
    return None if value is None else check_type(value, types, field=field, owner=owner)


def check_non_negative_int(value: Any, *, field: str, owner: str) -> int:
    check_type(value, int, field=field, owner=owner)
    if value < 0:
        raise ValueError(f"{field} of {owner} must be >= 0, got {value}")
    return int(value)


def check_positive_int(value: Any, *, field: str, owner: str) -> int:
    check_type(value, int, field=field, owner=owner)
    if value < 1:
        raise ValueError(f"{field} of {owner} must be >= 1, got {value}")
    return int(value)


def as_duration(value: Any, *, field: str, owner: str) -> timedelta | None:
    """timedelta as given; a number is seconds (Airflow accepts both); None stays None."""
    if value is None:
        return None
    if isinstance(value, timedelta):
        duration = value
    elif isinstance(value, int | float) and not isinstance(value, bool):
        duration = timedelta(seconds=value)
    else:
        raise TypeError(f"{field} of {owner} must be a timedelta or seconds, got {type(value).__name__}")
    if duration < timedelta(0):
        raise ValueError(f"{field} of {owner} must not be negative, got {duration}")
    return duration


def as_utc(value: Any, *, field: str, owner: str) -> datetime | None:
    if value is None:
        return None
    if not isinstance(value, datetime):
        raise TypeError(f"{field} of {owner} must be a datetime, got {type(value).__name__}")
    return ensure_utc(value, field=field)


def as_str_tuple(value: Any, *, field: str, owner: str) -> tuple[str, ...]:
    """A string or a list of strings (Airflow's ``email`` and ``tags``)."""
    if value is None:
        return ()
    items = [value] if isinstance(value, str) else value
    if not isinstance(items, list | tuple | set | frozenset) or not all(isinstance(i, str) for i in items):
        raise TypeError(f"{field} of {owner} must be a string or a list of strings")
    return tuple(items)


def as_dict(value: Any, *, field: str, owner: str) -> dict[str, Any]:
    if value is None:
        return {}
    if not isinstance(value, Mapping):
        raise TypeError(f"{field} of {owner} must be a dict, got {type(value).__name__}")
    return dict(value)


def _names(types: type | tuple[type, ...]) -> str:
    seq = types if isinstance(types, tuple) else (types,)
    return " or ".join(t.__name__ for t in seq)
