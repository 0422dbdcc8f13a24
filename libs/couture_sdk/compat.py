"""The ``airflow.*`` import hook: DAG files written for Airflow import our SDK unchanged.

Only the modules listed in :data:`AIRFLOW_MODULES` exist; importing any other ``airflow``
module fails at once with a message saying it is not supported, rather than half-working.
"""

from __future__ import annotations

import importlib
import sys
from collections.abc import Sequence
from importlib.abc import Loader, MetaPathFinder
from importlib.machinery import ModuleSpec
from types import ModuleType

AIRFLOW_VERSION = "2.10.5+couture"

_OPERATORS = "couture_sdk.operators"
_PY = "couture_sdk.operators.python"
_BASEOP = "couture_sdk.baseoperator"

#: module name -> {attribute: "module.path:Name"}; a name ending in "." marks a package.
AIRFLOW_MODULES: dict[str, dict[str, str]] = {
    "airflow": {
        "DAG": "couture_sdk.dag:DAG",
        "AirflowException": "couture_sdk.exceptions:AirflowException",
    },
    "airflow.models": {
        "DAG": "couture_sdk.dag:DAG",
        "BaseOperator": f"{_BASEOP}:BaseOperator",
        "Variable": "couture_sdk.models:Variable",
        "Connection": "couture_sdk.models:Connection",
        "TaskInstance": "couture_sdk.taskinstance:TaskInstance",
        "DagRun": "couture_sdk.taskinstance:DagRun",
    },
    "airflow.models.dag": {"DAG": "couture_sdk.dag:DAG"},
    "airflow.models.baseoperator": {
        "BaseOperator": f"{_BASEOP}:BaseOperator",
        "chain": f"{_BASEOP}:chain",
        "cross_downstream": f"{_BASEOP}:cross_downstream",
    },
    "airflow.models.variable": {"Variable": "couture_sdk.models:Variable"},
    "airflow.models.connection": {"Connection": "couture_sdk.models:Connection"},
    "airflow.models.taskinstance": {"TaskInstance": "couture_sdk.taskinstance:TaskInstance"},
    "airflow.operators": {
        name: f"{_OPERATORS}:{name}"
        for name in (
            "BashOperator",
            "BranchPythonOperator",
            "CoutureDaskYarnOperator",
            "CoutureJupyterOperator",
            "CouturePySparkOperator",
            "CoutureSparkOperator",
            "CoutureTensorflowOperator",
            "DagOperator",
            "DummyOperator",
            "EmptyOperator",
            "PySparkOperator",
            "PythonOperator",
            "ShortCircuitOperator",
            "SparkOperator",
            "TensorflowOperator",
        )
    },
    "airflow.operators.bash": {"BashOperator": f"{_OPERATORS}:BashOperator"},
    "airflow.operators.bash_operator": {"BashOperator": f"{_OPERATORS}:BashOperator"},
    "airflow.operators.python": {
        "PythonOperator": f"{_PY}:PythonOperator",
        "BranchPythonOperator": f"{_PY}:BranchPythonOperator",
        "ShortCircuitOperator": f"{_PY}:ShortCircuitOperator",
        "get_current_context": "couture_sdk.context:get_current_context",
    },
    "airflow.operators.python_operator": {
        "PythonOperator": f"{_PY}:PythonOperator",
        "BranchPythonOperator": f"{_PY}:BranchPythonOperator",
        "ShortCircuitOperator": f"{_PY}:ShortCircuitOperator",
    },
    "airflow.operators.empty": {"EmptyOperator": f"{_OPERATORS}:EmptyOperator"},
    "airflow.operators.dummy": {
        "DummyOperator": f"{_OPERATORS}:DummyOperator",
        "EmptyOperator": f"{_OPERATORS}:EmptyOperator",
    },
    "airflow.operators.dummy_operator": {"DummyOperator": f"{_OPERATORS}:DummyOperator"},
    "airflow.operators.dag_operator": {
        "DagOperator": f"{_OPERATORS}:DagOperator",
        "DagRunOrder": f"{_OPERATORS}:DagRunOrder",
    },
    "airflow.utils": {},
    "airflow.utils.trigger_rule": {"TriggerRule": "couture_sdk.trigger_rule:TriggerRule"},
    "airflow.utils.dates": {"days_ago": "couture_sdk.dates:days_ago"},
    "airflow.utils.decorators": {"apply_defaults": f"{_BASEOP}:apply_defaults"},
    "airflow.exceptions": {
        name: f"couture_sdk.exceptions:{name}"
        for name in (
            "AirflowException",
            "AirflowSkipException",
            "AirflowFailException",
            "AirflowDagCycleException",
            "DuplicateTaskIdFound",
            "AirflowNotFoundException",
            "AirflowTaskTimeout",
        )
    },
    "airflow.hooks": {},
    "airflow.hooks.base": {"BaseHook": "couture_sdk.models:BaseHook"},
    "airflow.hooks.base_hook": {"BaseHook": "couture_sdk.models:BaseHook"},
    "airflow.macros": {
        name: f"couture_sdk.macros:{name}"
        for name in (
            "ds_add",
            "ds_format",
            "datetime",
            "timedelta",
            "time",
            "uuid",
            "random",
            "json",
            "dateutil",
        )
    },
}

_PACKAGES = frozenset(
    name for name in AIRFLOW_MODULES if any(other.startswith(name + ".") for other in AIRFLOW_MODULES)
)


class _AirflowShim(MetaPathFinder, Loader):
    def find_spec(
        self, fullname: str, path: Sequence[str] | None, target: ModuleType | None = None
    ) -> ModuleSpec | None:
        if fullname != "airflow" and not fullname.startswith("airflow."):
            return None
        if fullname not in AIRFLOW_MODULES:
            raise ModuleNotFoundError(
                f"No module named '{fullname}': this airflow module is not supported by Couture. "
                "Supported: " + ", ".join(sorted(AIRFLOW_MODULES)),
                name=fullname,
            )
        return ModuleSpec(fullname, self, is_package=fullname in _PACKAGES)

    def create_module(self, spec: ModuleSpec) -> ModuleType | None:
        return None

    def exec_module(self, module: ModuleType) -> None:
        if module.__name__ == "airflow":
            module.__version__ = AIRFLOW_VERSION  # type: ignore[attr-defined]
        for attribute, target in AIRFLOW_MODULES[module.__name__].items():
            module_name, _, name = target.partition(":")
            setattr(module, attribute, getattr(importlib.import_module(module_name), name))


_SHIM = _AirflowShim()


def install_airflow_shim() -> None:
    """Put the hook first on sys.meta_path (idempotent), ahead of any real Airflow."""
    if _SHIM not in sys.meta_path:
        sys.meta_path.insert(0, _SHIM)
