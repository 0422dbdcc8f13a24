"""`airflow.*` imports in DAG files resolve to the SDK without Airflow installed."""

from __future__ import annotations

import importlib
import re

import pytest

import couture_sdk.operators as operators
from couture_sdk.compat import AIRFLOW_MODULES, install_airflow_shim
from couture_sdk.dag import DAG
from couture_sdk.models import BaseHook, Variable


def test_every_listed_module_imports_with_its_names() -> None:
    install_airflow_shim()
    for module_name, names in AIRFLOW_MODULES.items():
        module = importlib.import_module(module_name)
        for name in names:
            assert getattr(module, name) is not None, f"{module_name}.{name}"


def test_the_seeds_imports_work() -> None:
    install_airflow_shim()
    from airflow import DAG as AirflowDAG  # type: ignore[import-not-found]
    from airflow.hooks.base_hook import BaseHook as AirflowBaseHook  # type: ignore[import-not-found]
    from airflow.models import Variable as AirflowVariable  # type: ignore[import-not-found]
    from airflow.operators import (  # type: ignore[import-not-found]
        BashOperator,
        CoutureDaskYarnOperator,
        CoutureJupyterOperator,
        CouturePySparkOperator,
        CoutureSparkOperator,
        CoutureTensorflowOperator,
        PySparkOperator,
        PythonOperator,
        SparkOperator,
        TensorflowOperator,
    )
    from airflow.operators.bash_operator import BashOperator as LegacyBash  # type: ignore[import-not-found]
    from airflow.operators.dag_operator import DagOperator  # type: ignore[import-not-found]

    assert AirflowDAG is DAG
    assert AirflowVariable is Variable
    assert AirflowBaseHook is BaseHook
    assert LegacyBash is BashOperator is operators.BashOperator
    assert DagOperator is operators.DagOperator
    assert PythonOperator is operators.PythonOperator
    for name, cls in [
        ("CoutureSparkOperator", CoutureSparkOperator),
        ("CouturePySparkOperator", CouturePySparkOperator),
        ("SparkOperator", SparkOperator),
        ("PySparkOperator", PySparkOperator),
        ("CoutureDaskYarnOperator", CoutureDaskYarnOperator),
        ("TensorflowOperator", TensorflowOperator),
        ("CoutureTensorflowOperator", CoutureTensorflowOperator),
        ("CoutureJupyterOperator", CoutureJupyterOperator),
    ]:
        assert cls is getattr(operators, name)


def test_airflow_has_a_version_and_trigger_rules_and_days_ago() -> None:
    install_airflow_shim()
    import airflow
    from airflow.utils.dates import days_ago  # type: ignore[import-not-found]
    from airflow.utils.trigger_rule import TriggerRule  # type: ignore[import-not-found]

    assert airflow.__version__.startswith("2.")
    assert TriggerRule.ALL_DONE == "all_done"
    assert days_ago(1) < days_ago(0)
    assert days_ago(0).hour == 0


def test_an_unsupported_module_is_named_in_the_error() -> None:
    install_airflow_shim()
    with pytest.raises(
        ModuleNotFoundError,
        match=re.escape(
            "No module named 'airflow.providers': this airflow module is not supported by Couture"
        ),
    ) as raised:
        importlib.import_module("airflow.providers.amazon.aws.hooks.s3")
    assert raised.value.name == "airflow.providers"


def test_installing_twice_adds_one_hook() -> None:
    import sys

    install_airflow_shim()
    install_airflow_shim()
    assert sum(type(f).__name__ == "_AirflowShim" for f in sys.meta_path) == 1


def test_other_imports_are_untouched() -> None:
    install_airflow_shim()
    assert importlib.import_module("json").dumps([1]) == "[1]"
    with pytest.raises(ModuleNotFoundError, match="airflowish"):
        importlib.import_module("airflowish")
