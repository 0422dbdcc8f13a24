"""Where a try's log lives: Airflow's layout, so log tooling that knows Airflow finds it."""

from __future__ import annotations

from pathlib import PurePath

from couture_executor.domain.tries import TryKey


def try_log_path(logs_root: PurePath, key: TryKey) -> PurePath:
    """``dag_id=<d>/run_id=<r>/task_id=<t>[/map_index=<i>]/attempt=<n>.log`` under ``logs_root``."""
    folder = logs_root / f"dag_id={key.dag_id}" / f"run_id={key.run_id}" / f"task_id={key.task_id}"
    if key.map_index >= 0:
        folder = folder / f"map_index={key.map_index}"
    return folder / f"attempt={key.try_number}.log"
