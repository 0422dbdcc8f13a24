"""When a DAG's runs happen and which data interval each covers — Airflow 2.x timetables, UTC only.

A periodic schedule cuts time into consecutive data intervals; a run for an interval is due
once the interval has ended (``run_after == data_interval.end``) and its logical date is the
interval's start. ``@once`` gives one run at start_date; ``None`` gives none. Everything here is
pure: the current time is an argument, never read from a clock.
"""

from __future__ import annotations

import abc
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import lru_cache

from croniter import croniter

from couture_common.dagspec import ScheduleSpec

#: Airflow's cron presets, for a schedule whose ``cron`` still holds one.
CRON_PRESETS: dict[str, str] = {
    "@hourly": "0 * * * *",
    "@daily": "0 0 * * *",
    "@midnight": "0 0 * * *",
    "@weekly": "0 0 * * 0",
    "@monthly": "0 0 1 * *",
    "@quarterly": "0 0 1 */3 *",
    "@yearly": "0 0 1 1 *",
    "@annually": "0 0 1 1 *",
}


@dataclass(frozen=True, slots=True)
class DataInterval:
    """The span of data a run processes: ``[start, end)``."""

    start: datetime
    end: datetime

    @classmethod
    def exact(cls, at: datetime) -> DataInterval:
        """A zero-length interval, as manual and ``@once`` runs get."""
        return cls(start=at, end=at)


@dataclass(frozen=True, slots=True)
class DagRunInfo:
    """What the scheduler needs to create the next automated run."""

    data_interval: DataInterval
    #: The earliest moment the run may be created.
    run_after: datetime

    @property
    def logical_date(self) -> datetime:
        return self.data_interval.start


@dataclass(frozen=True, slots=True)
class TimeRestriction:
    """A DAG's bounds on automated runs."""

    #: start_date: no interval starts before it.
    earliest: datetime | None
    #: end_date: no interval starts after it.
    latest: datetime | None
    catchup: bool


class Timetable(abc.ABC):
    """One DAG schedule's arithmetic. Datetimes in and out are aware UTC."""

    #: Whether the schedule repeats (cron and timedelta schedules do).
    periodic: bool = False

    @abc.abstractmethod
    def next_dagrun_info(
        self,
        *,
        last_automated_data_interval: DataInterval | None,
        restriction: TimeRestriction,
        now: datetime,
    ) -> DagRunInfo | None:
        """The next automated run to create, or None when the schedule creates no more.

        The answer may lie in the future (``run_after > now``): then nothing is due yet and
        ``run_after`` says when to look again.
        """

    @abc.abstractmethod
    def infer_manual_data_interval(self, run_after: datetime) -> DataInterval:
        """The data interval of a run triggered by hand at ``run_after``."""

    def next_logical_date(self, dt: datetime) -> datetime | None:
        """The logical date of the scheduled run following one at ``dt`` (template ``next_ds``)."""
        return None

    def previous_logical_date(self, dt: datetime) -> datetime | None:
        """The logical date of the scheduled run preceding one at ``dt`` (template ``prev_ds``)."""
        return None


class NullTimetable(Timetable):
    """``schedule=None``: manual runs only."""

    def next_dagrun_info(
        self,
        *,
        last_automated_data_interval: DataInterval | None,
        restriction: TimeRestriction,
        now: datetime,
    ) -> DagRunInfo | None:
        return None

    def infer_manual_data_interval(self, run_after: datetime) -> DataInterval:
        return DataInterval.exact(run_after)


class OnceTimetable(Timetable):
    """``@once``: a single run at start_date, whether or not catchup is on."""

    def next_dagrun_info(
        self,
        *,
        last_automated_data_interval: DataInterval | None,
        restriction: TimeRestriction,
        now: datetime,
    ) -> DagRunInfo | None:
        start = restriction.earliest
        if last_automated_data_interval is not None or start is None:
            return None
        if restriction.latest is not None and start > restriction.latest:
            return None
        return DagRunInfo(data_interval=DataInterval.exact(start), run_after=start)

    def infer_manual_data_interval(self, run_after: datetime) -> DataInterval:
        return DataInterval.exact(run_after)


class _DataIntervalTimetable(Timetable):
    """Consecutive intervals ``[t, next(t))``; subclasses say how to step and align."""

    periodic = True

    @abc.abstractmethod
    def _get_next(self, current: datetime) -> datetime: ...

    @abc.abstractmethod
    def _get_prev(self, current: datetime) -> datetime: ...

    @abc.abstractmethod
    def _align_to_next(self, current: datetime) -> datetime:
        """``current`` if it is an interval boundary, else the next boundary."""

    @abc.abstractmethod
    def _align_to_prev(self, current: datetime) -> datetime:
        """``current`` if it is an interval boundary, else the previous boundary."""

    @abc.abstractmethod
    def _latest_complete_start(self, earliest: datetime | None, now: datetime) -> datetime:
        """The start of the latest interval that has ended by ``now`` (catchup off)."""

    def next_dagrun_info(
        self,
        *,
        last_automated_data_interval: DataInterval | None,
        restriction: TimeRestriction,
        now: datetime,
    ) -> DagRunInfo | None:
        earliest = restriction.earliest
        if not restriction.catchup:
            earliest = self._latest_complete_start(earliest, now)
        elif earliest is not None:
            earliest = self._align_to_next(earliest)
        if last_automated_data_interval is None:
            if earliest is None:
                return None
            start = earliest
        else:
            # Re-aligning the previous end keeps runs on the grid after a schedule change.
            after_last = self._align_to_prev(last_automated_data_interval.end)
            start = after_last if earliest is None else max(after_last, earliest)
        if restriction.latest is not None and start > restriction.latest:
            return None
        end = self._get_next(start)
        return DagRunInfo(data_interval=DataInterval(start=start, end=end), run_after=end)

    def next_logical_date(self, dt: datetime) -> datetime | None:
        return self._get_next(dt)

    def previous_logical_date(self, dt: datetime) -> datetime | None:
        return self._get_prev(dt)


class CronDataIntervalTimetable(_DataIntervalTimetable):
    """A cron schedule: intervals run between consecutive cron fire times."""

    def __init__(self, expression: str) -> None:
        expression = CRON_PRESETS.get(expression.strip(), expression.strip())
        if not croniter.is_valid(expression):
            raise ValueError(f"schedule.cron: invalid cron expression {expression!r}")
        self.expression = expression

    def __repr__(self) -> str:
        return f"CronDataIntervalTimetable({self.expression!r})"

    def _get_next(self, current: datetime) -> datetime:
        return _utc(croniter(self.expression, current).get_next(datetime))

    def _get_prev(self, current: datetime) -> datetime:
        return _utc(croniter(self.expression, current).get_prev(datetime))

    def _align_to_next(self, current: datetime) -> datetime:
        next_time = self._get_next(current)
        return current if self._get_prev(next_time) == current else next_time

    def _align_to_prev(self, current: datetime) -> datetime:
        prev_time = self._get_prev(current)
        return current if self._get_next(prev_time) == current else prev_time

    def _latest_complete_start(self, earliest: datetime | None, now: datetime) -> datetime:
        last_start = self._get_prev(now)
        on_boundary = self._get_next(last_start) == now
        new_start = last_start if on_boundary else self._get_prev(last_start)
        if earliest is None:
            return new_start
        return max(new_start, self._align_to_next(earliest))

    def infer_manual_data_interval(self, run_after: datetime) -> DataInterval:
        # The last complete period: triggered at 01:00 on the 25th, a @daily DAG covers the 24th.
        end = self._align_to_prev(run_after)
        return DataInterval(start=self._get_prev(end), end=end)


class DeltaDataIntervalTimetable(_DataIntervalTimetable):
    """A timedelta schedule: intervals of fixed length laid end to end from start_date."""

    def __init__(self, delta: timedelta) -> None:
        if delta <= timedelta(0):
            raise ValueError(f"schedule.delta_seconds: must be positive, got {delta.total_seconds()}")
        self.delta = delta

    def __repr__(self) -> str:
        return f"DeltaDataIntervalTimetable({self.delta!r})"

    def _get_next(self, current: datetime) -> datetime:
        return current + self.delta

    def _get_prev(self, current: datetime) -> datetime:
        return current - self.delta

    def _align_to_next(self, current: datetime) -> datetime:
        return current

    def _align_to_prev(self, current: datetime) -> datetime:
        return current

    def _latest_complete_start(self, earliest: datetime | None, now: datetime) -> datetime:
        if earliest is None:
            return now - self.delta
        # Anchored at start_date so that catchup on and off produce the same grid of intervals.
        completed = (now - earliest) // self.delta
        return earliest + max(completed - 1, 0) * self.delta

    def infer_manual_data_interval(self, run_after: datetime) -> DataInterval:
        return DataInterval(start=run_after - self.delta, end=run_after)


def _utc(value: datetime) -> datetime:
    # croniter marks some results fold=1; UTC has no folds, and the flag would leak into reprs.
    return value.astimezone(UTC).replace(fold=0)


@lru_cache(maxsize=1024)
def timetable_for(schedule: ScheduleSpec) -> Timetable:
    """The timetable of a parsed schedule; raises ValueError naming the field at fault."""
    if schedule.kind == "none":
        return NullTimetable()
    if schedule.kind == "once":
        return OnceTimetable()
    if schedule.kind == "cron":
        if not schedule.cron:
            raise ValueError("schedule.cron: required when schedule.kind is 'cron'")
        return CronDataIntervalTimetable(schedule.cron)
    if schedule.kind == "delta":
        if schedule.delta_seconds is None:
            raise ValueError("schedule.delta_seconds: required when schedule.kind is 'delta'")
        return DeltaDataIntervalTimetable(timedelta(seconds=schedule.delta_seconds))
    raise ValueError(f"schedule.kind: unknown kind {schedule.kind!r}")
