"""Given a DAG's schedule and bounds, which data intervals become runs, and when."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from couture_common.dagspec import ScheduleSpec
from couture_common.timetables import DataInterval, TimeRestriction, Timetable, timetable_for


def utc(year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=UTC)


def cron(expression: str) -> Timetable:
    return timetable_for(ScheduleSpec(kind="cron", cron=expression))


def delta(seconds: float) -> Timetable:
    return timetable_for(ScheduleSpec(kind="delta", delta_seconds=seconds))


def due_intervals(
    timetable: Timetable,
    now: datetime,
    *,
    start: datetime | None,
    end: datetime | None = None,
    catchup: bool = True,
    last: DataInterval | None = None,
) -> list[tuple[datetime, datetime]]:
    """Every interval the scheduler would create by ``now``, one after another."""
    restriction = TimeRestriction(earliest=start, latest=end, catchup=catchup)
    created = []
    for _ in range(1000):
        info = timetable.next_dagrun_info(last_automated_data_interval=last, restriction=restriction, now=now)
        if info is None or info.run_after > now:
            break
        assert info.logical_date == info.data_interval.start
        created.append((info.data_interval.start, info.data_interval.end))
        last = info.data_interval
    return created


def test_catchup_creates_every_daily_interval_that_has_ended() -> None:
    runs = due_intervals(cron("0 0 * * *"), utc(2024, 1, 4, 12), start=utc(2024, 1, 1))
    assert runs == [
        (utc(2024, 1, 1), utc(2024, 1, 2)),
        (utc(2024, 1, 2), utc(2024, 1, 3)),
        (utc(2024, 1, 3), utc(2024, 1, 4)),
    ]


def test_a_start_date_off_the_cron_opens_at_the_next_fire_time() -> None:
    runs = due_intervals(cron("0 0 * * *"), utc(2024, 1, 4), start=utc(2024, 1, 1, 6))
    assert runs == [(utc(2024, 1, 2), utc(2024, 1, 3)), (utc(2024, 1, 3), utc(2024, 1, 4))]


def test_without_catchup_only_the_latest_complete_interval_runs() -> None:
    runs = due_intervals(cron("0 0 * * *"), utc(2024, 3, 10, 15), start=utc(2024, 1, 1), catchup=False)
    assert runs == [(utc(2024, 3, 9), utc(2024, 3, 10))]


def test_without_catchup_on_an_interval_boundary_the_interval_just_ended_runs() -> None:
    runs = due_intervals(cron("0 0 * * *"), utc(2024, 3, 10), start=utc(2024, 1, 1), catchup=False)
    assert runs == [(utc(2024, 3, 9), utc(2024, 3, 10))]


def test_without_catchup_after_a_long_pause_the_schedule_jumps_to_the_latest_interval() -> None:
    last = DataInterval(utc(2024, 1, 1), utc(2024, 1, 2))
    runs = due_intervals(
        cron("0 0 * * *"), utc(2024, 2, 1, 3), start=utc(2024, 1, 1), catchup=False, last=last
    )
    assert runs == [(utc(2024, 1, 31), utc(2024, 2, 1))]


def test_nothing_is_due_before_the_first_interval_ends() -> None:
    timetable = cron("0 0 * * *")
    restriction = TimeRestriction(earliest=utc(2024, 1, 1), latest=None, catchup=True)
    info = timetable.next_dagrun_info(
        last_automated_data_interval=None, restriction=restriction, now=utc(2024, 1, 1, 23)
    )
    assert info is not None and info.run_after == utc(2024, 1, 2)


def test_monthly_intervals_follow_month_ends() -> None:
    runs = due_intervals(cron("0 0 1 * *"), utc(2024, 4, 1), start=utc(2024, 1, 31))
    assert runs == [(utc(2024, 2, 1), utc(2024, 3, 1)), (utc(2024, 3, 1), utc(2024, 4, 1))]


def test_quarterly_preset_runs_once_a_quarter() -> None:
    timetable = timetable_for(ScheduleSpec(kind="cron", cron="@quarterly"))
    runs = due_intervals(timetable, utc(2025, 1, 1), start=utc(2024, 1, 1))
    assert [start for start, _ in runs] == [
        utc(2024, 1, 1),
        utc(2024, 4, 1),
        utc(2024, 7, 1),
        utc(2024, 10, 1),
    ]


def test_end_date_stops_the_schedule_after_the_interval_starting_on_it() -> None:
    runs = due_intervals(cron("0 0 * * *"), utc(2024, 2, 1), start=utc(2024, 1, 1), end=utc(2024, 1, 3))
    assert [start for start, _ in runs] == [utc(2024, 1, 1), utc(2024, 1, 2), utc(2024, 1, 3)]


def test_timedelta_schedules_anchor_at_start_date() -> None:
    runs = due_intervals(delta(6 * 3600), utc(2024, 1, 2, 1), start=utc(2024, 1, 1, 1, 30))
    assert runs == [
        (utc(2024, 1, 1, 1, 30), utc(2024, 1, 1, 7, 30)),
        (utc(2024, 1, 1, 7, 30), utc(2024, 1, 1, 13, 30)),
        (utc(2024, 1, 1, 13, 30), utc(2024, 1, 1, 19, 30)),
    ]


def test_timedelta_without_catchup_keeps_the_start_date_grid() -> None:
    runs = due_intervals(delta(6 * 3600), utc(2024, 1, 5, 2), start=utc(2024, 1, 1, 1, 30), catchup=False)
    assert runs == [(utc(2024, 1, 4, 19, 30), utc(2024, 1, 5, 1, 30))]


def test_once_runs_a_single_time_at_start_date() -> None:
    timetable = timetable_for(ScheduleSpec(kind="once"))
    assert due_intervals(timetable, utc(2024, 6, 1), start=utc(2024, 1, 1)) == [
        (utc(2024, 1, 1), utc(2024, 1, 1))
    ]
    assert due_intervals(timetable, utc(2024, 6, 1), start=utc(2024, 1, 1), catchup=False) == [
        (utc(2024, 1, 1), utc(2024, 1, 1))
    ]


def test_no_schedule_and_no_start_date_create_nothing() -> None:
    assert (
        due_intervals(timetable_for(ScheduleSpec(kind="none")), utc(2024, 6, 1), start=utc(2024, 1, 1)) == []
    )
    assert due_intervals(cron("0 0 * * *"), utc(2024, 6, 1), start=None) == []


def test_a_manual_run_of_a_cron_dag_covers_the_last_complete_period() -> None:
    interval = cron("0 0 * * *").infer_manual_data_interval(utc(2024, 1, 25, 1))
    assert interval == DataInterval(utc(2024, 1, 24), utc(2024, 1, 25))


def test_a_manual_run_of_a_timedelta_dag_covers_the_delta_before_it() -> None:
    interval = delta(3600).infer_manual_data_interval(utc(2024, 1, 25, 1, 30))
    assert interval == DataInterval(utc(2024, 1, 25, 0, 30), utc(2024, 1, 25, 1, 30))


def test_a_manual_run_without_schedule_has_an_empty_interval_at_its_logical_date() -> None:
    interval = timetable_for(ScheduleSpec(kind="none")).infer_manual_data_interval(utc(2024, 1, 25, 1))
    assert interval == DataInterval(utc(2024, 1, 25, 1), utc(2024, 1, 25, 1))


def test_previous_and_next_logical_dates_for_templates() -> None:
    daily = cron("0 0 * * *")
    assert daily.previous_logical_date(utc(2024, 3, 1)) == utc(2024, 2, 29)
    assert daily.next_logical_date(utc(2024, 2, 28)) == utc(2024, 2, 29)
    assert delta(3600).next_logical_date(utc(2024, 1, 1)) == utc(2024, 1, 1, 1)
    assert timetable_for(ScheduleSpec(kind="none")).next_logical_date(utc(2024, 1, 1)) is None
    assert timetable_for(ScheduleSpec(kind="once")).previous_logical_date(utc(2024, 1, 1)) is None


@pytest.mark.parametrize(
    ("schedule", "field"),
    [
        (ScheduleSpec(kind="cron"), "schedule.cron"),
        (ScheduleSpec(kind="cron", cron="every day"), "schedule.cron"),
        (ScheduleSpec(kind="delta"), "schedule.delta_seconds"),
        (ScheduleSpec(kind="delta", delta_seconds=0), "schedule.delta_seconds"),
    ],
)
def test_a_bad_schedule_names_the_field_at_fault(schedule: ScheduleSpec, field: str) -> None:
    with pytest.raises(ValueError, match=field):
        timetable_for(schedule)


def test_intervals_are_utc_without_fold_artifacts() -> None:
    start, _ = due_intervals(cron("0 0 1 */3 *"), utc(2024, 8, 1), start=utc(2024, 1, 15), catchup=False)[0]
    assert start == utc(2024, 4, 1) and start.fold == 0 and start.utcoffset() == timedelta(0)


def test_cron_and_timedelta_schedules_are_periodic_none_and_once_are_not() -> None:
    assert cron("0 0 * * *").periodic and delta(60).periodic
    assert not timetable_for(ScheduleSpec(kind="none")).periodic
    assert not timetable_for(ScheduleSpec(kind="once")).periodic
