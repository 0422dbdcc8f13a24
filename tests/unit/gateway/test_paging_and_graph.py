"""Airflow's ordering rules, and the task-graph walk behind include_upstream/downstream."""

from __future__ import annotations

import pytest
import sqlalchemy as sa
from fastapi import HTTPException

from couture_common.dagspec import DagSpec, ScheduleSpec, TaskSpec
from couture_gateway.api.graph import with_relatives
from couture_gateway.api.paging import ordering

table = sa.table("t", sa.column("a"), sa.column("b"))
COLUMNS = {"a": table.c.a, "b": table.c.b}


def _sql(clauses: list[sa.ColumnElement[object]]) -> list[str]:
    return [str(c) for c in clauses]


def test_order_by_fields_with_minus_for_descending_and_a_default() -> None:
    assert _sql(ordering(["-a", "b"], COLUMNS, ["a"])) == ["t.a DESC", "t.b ASC"]
    assert _sql(ordering(["b,-a"], COLUMNS, ["a"])) == ["t.b ASC", "t.a DESC"]
    assert _sql(ordering([], COLUMNS, ["-b"])) == ["t.b DESC"]


def test_unknown_order_field_is_a_400_in_airflows_words() -> None:
    with pytest.raises(HTTPException) as refused:
        ordering(["-colour"], COLUMNS, ["a"])
    assert refused.value.status_code == 400
    assert (
        refused.value.detail
        == "Ordering with 'colour' is disallowed or the attribute does not exist on the model"
    )


SPEC = DagSpec(
    dag_id="d",
    fileloc="/d.py",
    schedule=ScheduleSpec(kind="none"),
    tasks=(
        TaskSpec(task_id="a", operator="X"),
        TaskSpec(task_id="b", operator="X", upstream=("a",)),
        TaskSpec(task_id="c", operator="X", upstream=("b",)),
        TaskSpec(task_id="side", operator="X", upstream=("a",)),
    ),
)


def test_relatives_walk_the_graph_transitively_in_the_asked_direction() -> None:
    assert with_relatives(SPEC, ["b"], upstream=False, downstream=False) == {"b"}
    assert with_relatives(SPEC, ["c"], upstream=True, downstream=False) == {"a", "b", "c"}
    assert with_relatives(SPEC, ["a"], upstream=False, downstream=True) == {"a", "b", "c", "side"}
    assert with_relatives(SPEC, ["b"], upstream=True, downstream=True) == {"a", "b", "c"}
