"""Reading a try's log a page at a time, in Airflow's layout and shape."""

from __future__ import annotations

from pathlib import Path

import pytest

from couture_gateway.api.logs import InvalidLogToken, decode_token, encode_token, log_file, read_chunk
from couture_gateway.schemas.tasks import TimeDelta


def test_log_files_follow_airflows_layout(tmp_path: Path) -> None:
    assert log_file(tmp_path, "d", "manual__1", "t", 2) == (
        tmp_path / "dag_id=d" / "run_id=manual__1" / "task_id=t" / "attempt=2.log"
    )


def test_a_line_still_being_written_waits_for_the_next_read(tmp_path: Path) -> None:
    path = tmp_path / "attempt=1.log"
    path.write_text('one\n{"event": "two", "level": "info"}\nthr')
    chunk = read_chunk(path, 0, whole=False)
    assert chunk.lines == [{"event": "one", "timestamp": None}, {"event": "two", "level": "info"}]
    with path.open("a") as fh:
        fh.write("ee\n")
    rest = read_chunk(path, chunk.next_offset, whole=False)
    assert rest.lines == [{"event": "three", "timestamp": None}]
    assert read_chunk(path, 0, whole=True).lines[-1] == {"event": "three", "timestamp": None}


def test_a_missing_file_reads_as_empty_and_json_that_is_no_log_line_stays_text(tmp_path: Path) -> None:
    assert read_chunk(tmp_path / "absent.log", 0, whole=False).lines == []
    path = tmp_path / "attempt=1.log"
    path.write_text('{"no_event": 1}\n')
    assert read_chunk(path, 0, whole=True).lines == [{"event": '{"no_event": 1}', "timestamp": None}]


def test_continuation_tokens_round_trip_and_garbage_is_refused() -> None:
    assert decode_token(encode_token(1234)) == 1234
    for bad in ("garbage", encode_token(-1), "eyJ4IjogMX0="):
        with pytest.raises(InvalidLogToken):
            decode_token(bad)


def test_durations_are_airflow_timedeltas() -> None:
    assert TimeDelta.from_seconds(90061.25).model_dump(by_alias=True) == {
        "__type": "TimeDelta",
        "days": 1,
        "seconds": 3661,
        "microseconds": 250000,
    }
