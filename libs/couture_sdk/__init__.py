"""The DAG SDK: what Airflow-style DAG files import (through :mod:`couture_sdk.compat`) and what
task processes use to run one task."""

from couture_sdk.baseoperator import BaseOperator, chain, cross_downstream
from couture_sdk.dag import DAG
from couture_sdk.models import BaseHook, Connection, Variable
from couture_sdk.trigger_rule import TriggerRule

__all__ = [
    "DAG",
    "BaseHook",
    "BaseOperator",
    "Connection",
    "TriggerRule",
    "Variable",
    "chain",
    "cross_downstream",
]
