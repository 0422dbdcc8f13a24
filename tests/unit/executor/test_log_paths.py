from __future__ import annotations

from pathlib import PurePosixPath

from couture_executor.domain.log_paths import try_log_path
from couture_executor.domain.tries import TryKey


def test_a_try_log_follows_airflows_layout() -> None:
    path = try_log_path(PurePosixPath("/logs"), TryKey("etl", "manual__2024", "load", -1, 2))
    assert path == PurePosixPath("/logs/dag_id=etl/run_id=manual__2024/task_id=load/attempt=2.log")


def test_a_mapped_try_log_names_its_map_index() -> None:
    path = try_log_path(PurePosixPath("/logs"), TryKey("etl", "r", "load", 3, 1))
    assert path == PurePosixPath("/logs/dag_id=etl/run_id=r/task_id=load/map_index=3/attempt=1.log")
