"""Importing a DAG file and collecting the DAGs it defines, as Airflow's DagBag does."""

from __future__ import annotations

import hashlib
import importlib.util
import sys
from pathlib import Path

from couture_sdk.compat import install_airflow_shim
from couture_sdk.dag import DAG, DagContext


def module_name_for(path: Path) -> str:
    """Unique per path, so two files named ``etl.py`` never share a module."""
    digest = hashlib.sha1(str(path.resolve()).encode()).hexdigest()
    return f"unusual_prefix_{digest}_{path.stem}"


def load_dags_from_file(path: Path, *, dags_folder: Path | None) -> dict[str, DAG]:
    """Run the file and return its DAGs by dag_id, each validated (cycles, start_date).

    DAGs are those bound to module-level names plus those opened with ``with DAG(...)``;
    errors from the file itself propagate with the file's own traceback.
    """
    install_airflow_shim()
    # Airflow puts the DAGs folder on sys.path so DAG files can import helper modules next to them.
    if dags_folder is not None and str(dags_folder) not in sys.path:
        sys.path.append(str(dags_folder))
    name = module_name_for(path)
    spec = importlib.util.spec_from_file_location(name, path)
    if spec is None or spec.loader is None:
        raise ImportError(f"Cannot import {path}: not a Python file")
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    DagContext.start_collecting()
    try:
        spec.loader.exec_module(module)
    finally:
        entered = DagContext.stop_collecting()
    found = [value for value in vars(module).values() if isinstance(value, DAG)]
    found.extend(entered)
    dags: dict[str, DAG] = {}
    for dag in found:
        dag.fileloc = str(path)
        dags[dag.dag_id] = dag
    for dag in dags.values():
        dag.validate()
    return dags
