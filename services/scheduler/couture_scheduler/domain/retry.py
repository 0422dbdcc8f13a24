"""When a failed try may run again: Airflow 2's ``next_retry_datetime``."""

from __future__ import annotations

import hashlib
import math
from datetime import datetime, timedelta

from couture_common.dagspec import TaskSpec

#: Airflow caps the backoff so timedelta cannot overflow (one day).
MAX_RETRY_DELAY_SECONDS = 24 * 60 * 60


def retry_delay_seconds(task: TaskSpec, *, dag_id: str, logical_date: datetime, try_number: int) -> float:
    """Seconds to wait after try ``try_number`` (1-based, the try that just failed) ended.

    With exponential backoff the delay is ``retry_delay * 2**(try_number-1)`` plus a deterministic
    jitter of up to as much again (hashed from the task instance, so every replay agrees), capped
    by ``max_retry_delay``.
    """
    delay = task.retry_delay
    if task.retry_exponential_backoff:
        min_backoff = max(math.ceil(delay * 2 ** (try_number - 1)), 1)
        seed = f"{dag_id}#{task.task_id}#{logical_date.isoformat()}#{try_number + 1}"
        ti_hash = int(hashlib.sha1(seed.encode(), usedforsecurity=False).hexdigest(), 16)
        delay = min(min_backoff + ti_hash % min_backoff, MAX_RETRY_DELAY_SECONDS)
        if task.max_retry_delay:
            delay = min(task.max_retry_delay, delay)
    return delay


def next_retry_at(
    task: TaskSpec, *, dag_id: str, logical_date: datetime, try_number: int, ended_at: datetime
) -> datetime:
    seconds = retry_delay_seconds(task, dag_id=dag_id, logical_date=logical_date, try_number=try_number)
    return ended_at + timedelta(seconds=seconds)
