"""The durations table after a crash: records faust delivers again are not counted again."""

from __future__ import annotations

from couture_common.events import DagRunStarted, Event
from couture_gateway.streams.durations import Entry, advance
from tests.unit.streams.events import finished, started


def replay(records: list[tuple[int, Event]], entry: Entry | None = None) -> Entry | None:
    for offset, event in records:
        entry = advance(entry, offset, event) or entry
    return entry


def test_records_delivered_again_after_a_crash_change_nothing() -> None:
    records: list[tuple[int, Event]] = [(3, started("extract", at=0)), (7, finished("extract", at=2))]
    folded = replay(records)

    again = replay(records, folded)

    assert again == folded
    assert folded is not None
    assert (folded.offset, folded.stats.tasks["extract"].count) == (7, 1)


def test_a_record_that_changes_nothing_leaves_the_entry_unwritten() -> None:
    entry = replay([(3, started("extract", at=0))])

    assert advance(entry, 4, DagRunStarted(dag_id="etl", run_id="r1")) is None
    assert advance(None, 4, DagRunStarted(dag_id="etl", run_id="r1")) is None
    assert advance(entry, 3, finished("extract", at=2)) is None
