"""Golden histories: recorded event streams of whole scenarios, replayed through the fold.

Set ``COUTURE_RECORD_GOLDEN=1`` to re-record ``tests/golden/*.json`` after an intended change.
"""

from __future__ import annotations

import json
import os
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest

from couture_common.eventlog.port import Record
from couture_common.events import decode_envelope, encode_envelope
from couture_scheduler.domain import SchedulerState, apply, decide

from .scenarios import SCENARIOS

GOLDEN = Path(__file__).parents[2] / "golden"
RECORD = os.environ.get("COUTURE_RECORD_GOLDEN") == "1"


def final_state(state: SchedulerState) -> dict[str, Any]:
    """What a user would check at the end: every run's state and every task's state and try."""
    return {
        dag_id: {
            run.run_id: {
                "state": run.state,
                "tasks": {ti.task_id: [ti.state, ti.try_number] for ti in run.tis.values()},
            }
            for run in dag.runs.values()
        }
        for dag_id, dag in sorted(state.dags.items())
    }


def to_json(records: list[Record], state: SchedulerState, now: str) -> dict[str, Any]:
    return {
        "now": now,
        "records": [
            {
                "topic": r.topic,
                "partition": r.partition,
                "offset": r.offset,
                "envelope": json.loads(encode_envelope(r.envelope)),
            }
            for r in records
        ],
        "final": final_state(state),
        "ignored": state.ignored,
    }


def from_json(data: dict[str, Any]) -> list[Record]:
    return [
        Record(r["topic"], r["partition"], r["offset"], decode_envelope(json.dumps(r["envelope"]).encode()))
        for r in data["records"]
    ]


@pytest.mark.parametrize("name", sorted(SCENARIOS))
def test_scenario_plays_out_as_recorded(name: str) -> None:
    played = SCENARIOS[name]()
    path = GOLDEN / f"{name}.json"
    recorded = to_json(played.log.records, played.log.state, played.now.isoformat())
    if RECORD:
        path.write_text(json.dumps(recorded, indent=1) + "\n")
    assert path.exists(), f"{path} missing: run with COUTURE_RECORD_GOLDEN=1"
    assert json.loads(path.read_text()) == recorded


@pytest.mark.parametrize("name", sorted(SCENARIOS))
def test_replaying_a_recorded_history_rebuilds_the_final_state_and_nothing_is_left_to_do(name: str) -> None:
    data = json.loads((GOLDEN / f"{name}.json").read_text())
    state = SchedulerState()
    for record in from_json(data):
        apply(state, record)
    assert final_state(state) == data["final"]
    assert state.ignored == data["ignored"]
    assert decide(state, datetime.fromisoformat(data["now"])) == []


@pytest.mark.parametrize("name", sorted(SCENARIOS))
def test_every_event_delivered_twice_at_new_offsets_ends_in_the_same_state(name: str) -> None:
    """A producer retry re-appends an event; the fold's try and state guards make it a no-op."""
    data = json.loads((GOLDEN / f"{name}.json").read_text())
    state = SchedulerState()
    next_offset: dict[tuple[str, int], int] = {}
    for record in from_json(data):
        for _ in range(2):
            offset = next_offset.get((record.topic, record.partition), 0)
            next_offset[(record.topic, record.partition)] = offset + 1
            apply(state, Record(record.topic, record.partition, offset, record.envelope))
    assert final_state(state) == data["final"]
    assert decide(state, datetime.fromisoformat(data["now"])) == []
