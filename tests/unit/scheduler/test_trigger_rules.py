"""Given upstream task states, when decide runs, then the downstream task runs, waits or is settled."""

from __future__ import annotations

from typing import Final

import pytest

from couture_common.events import TaskInstanceScheduled, TaskInstanceStateDecided
from couture_common.events.run import DecidedState

from .driver import Log, at, dag_spec, of_type, parsed, task, trigger

S: Final = "success"
F: Final = "failed"
K: Final = "skipped"
UF: Final = "upstream_failed"
#: Still running: never finished in the test.
R: Final = None

CASES = [
    # rule, upstream states, what the downstream task becomes ("scheduled" = runs, None = waits)
    ("all_success", (S, S, S), "scheduled"),
    ("all_success", (S, S, R), None),
    ("all_success", (S, F, R), UF),
    ("all_success", (S, UF, S), UF),
    ("all_success", (S, K, R), K),
    ("all_success", (K, F, S), UF),
    ("all_failed", (F, UF, F), "scheduled"),
    ("all_failed", (F, F, R), None),
    ("all_failed", (F, S, R), K),
    ("all_failed", (F, K, F), K),
    ("all_done", (S, F, K), "scheduled"),
    ("all_done", (S, UF, R), None),
    ("all_done_min_one_success", (S, F, K), "scheduled"),
    ("all_done_min_one_success", (F, F, K), UF),
    ("all_done_min_one_success", (S, R, R), None),
    ("one_success", (S, R, R), "scheduled"),
    ("one_success", (F, R, R), None),
    ("one_success", (F, K, UF), UF),
    ("one_success", (K, K, K), K),
    ("one_failed", (F, R, R), "scheduled"),
    ("one_failed", (UF, R, R), "scheduled"),
    ("one_failed", (S, K, R), None),
    ("one_failed", (S, K, S), K),
    ("one_done", (F, R, R), "scheduled"),
    ("one_done", (S, R, R), "scheduled"),
    ("one_done", (K, UF, R), None),
    ("one_done", (K, UF, K), K),
    ("none_failed", (S, K, S), "scheduled"),
    ("none_failed", (K, K, K), "scheduled"),
    ("none_failed", (S, R, R), None),
    ("none_failed", (S, F, R), UF),
    ("none_failed_min_one_success", (S, K, K), "scheduled"),
    ("none_failed_min_one_success", (K, K, K), K),
    ("none_failed_min_one_success", (UF, S, R), UF),
    ("none_failed_or_skipped", (S, K, K), "scheduled"),
    ("none_skipped", (S, F, UF), "scheduled"),
    ("none_skipped", (S, K, R), K),
    ("none_skipped", (S, F, R), None),
    ("all_skipped", (K, K, K), "scheduled"),
    ("all_skipped", (K, K, R), None),
    ("all_skipped", (K, S, R), K),
    ("all_skipped", (F, K, K), K),
    ("always", (R, R, R), "scheduled"),
    ("dummy", (F, R, R), "scheduled"),
]


@pytest.mark.parametrize(("rule", "upstream", "expected"), CASES)
def test_trigger_rule(rule: str, upstream: tuple[DecidedState | None, ...], expected: str | None) -> None:
    """The upstream tasks hang below a root that keeps running; their states are then settled
    directly, and ``R`` ones stay unfinished."""
    log = Log()
    ups = [task(f"u{i}", "root") for i in range(len(upstream))]
    spec = dag_spec("rules", task("root"), *ups, task("t", *(u.task_id for u in ups), trigger_rule=rule))
    log.given(*parsed(spec), trigger("rules"))
    first = log.settle(at(0))
    log.given(
        *(
            TaskInstanceStateDecided(dag_id="rules", run_id="manual_1", task_id=f"u{i}", state=state)
            for i, state in enumerate(upstream)
            if state is not None
        ),
        time=at(1),
    )
    out = first + log.decide(at(1))
    scheduled = [e.task_id for e in of_type(out, TaskInstanceScheduled)]
    decided = [e.state for e in of_type(out, TaskInstanceStateDecided) if e.task_id == "t"]
    if expected is None:
        assert ("t" in scheduled, decided) == (False, [])
    elif expected == "scheduled":
        assert ("t" in scheduled, decided) == (True, [])
    else:
        assert ("t" in scheduled, decided) == (False, [expected])


def test_a_task_without_upstream_runs_whatever_its_rule() -> None:
    log = Log()
    log.given(*parsed(dag_spec("solo", task("t", trigger_rule="all_failed"))), trigger("solo"))
    out = log.settle(at(0))
    assert any(isinstance(e, TaskInstanceScheduled) and e.task_id == "t" for e in out)
