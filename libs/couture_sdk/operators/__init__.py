"""Every operator a DAG file can import, by the names the seed's DAG files use."""

from couture_sdk.operators.bash import BashOperator
from couture_sdk.operators.couture import (
    CoutureDaskYarnOperator,
    CoutureJupyterOperator,
    CouturePySparkOperator,
    CoutureSparkOperator,
    CoutureTensorflowOperator,
    PySparkOperator,
    SparkOperator,
    TensorflowOperator,
    method_payload,
)
from couture_sdk.operators.dag_operator import DagOperator, DagRunOrder
from couture_sdk.operators.empty import DummyOperator, EmptyOperator
from couture_sdk.operators.python import BranchPythonOperator, PythonOperator, ShortCircuitOperator

__all__ = [
    "BashOperator",
    "BranchPythonOperator",
    "CoutureDaskYarnOperator",
    "CoutureJupyterOperator",
    "CouturePySparkOperator",
    "CoutureSparkOperator",
    "CoutureTensorflowOperator",
    "DagOperator",
    "DagRunOrder",
    "DummyOperator",
    "EmptyOperator",
    "PySparkOperator",
    "PythonOperator",
    "ShortCircuitOperator",
    "SparkOperator",
    "TensorflowOperator",
    "method_payload",
]
