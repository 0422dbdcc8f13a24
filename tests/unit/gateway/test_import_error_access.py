"""Which import errors a user sees, and with which stack trace (Airflow 3's per-file rules)."""

from __future__ import annotations

import pytest

from couture_gateway.api.import_error_access import Visibility, visibility

SHARED = frozenset({"etl", "payroll"})


@pytest.mark.parametrize(
    ("file_dags", "readable", "expected"),
    [
        (SHARED, None, Visibility.FULL),
        (frozenset(), None, Visibility.FULL),
        (SHARED, frozenset({"etl", "payroll", "report"}), Visibility.FULL),
        (SHARED, frozenset({"etl"}), Visibility.REDACTED),
        (SHARED, frozenset({"report"}), Visibility.HIDDEN),
        (SHARED, frozenset(), Visibility.HIDDEN),
        (frozenset(), frozenset({"etl"}), Visibility.HIDDEN),
    ],
)
def test_an_error_shows_in_full_only_to_who_may_read_every_dag_of_its_file(
    file_dags: frozenset[str], readable: frozenset[str] | None, expected: Visibility
) -> None:
    assert visibility(file_dags, readable) is expected
