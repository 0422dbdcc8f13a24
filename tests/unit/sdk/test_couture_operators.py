"""The seed's cluster operators: arguments checked at parse time, the documented JSON payload."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

import pytest

from couture_sdk.dag import DAG
from couture_sdk.operators import (
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

SEED_PAYLOAD = (
    '{"method_id": "LoadData", "dag_id": "video_embedding_dag", "method_args_dict": {"task_strategy": '
    '"parallel"}, "input_base_dir_path": "/usr/local/couture/input/", "output_base_dir_path": '
    '"/usr/local/couture/processed/", "input_filenames_dict": {"tags_file": "video_tags.csv"}, '
    '"output_filenames_dict": {"tags_file": "video_tags.csv"}}'
)
SEED_ARGS: dict[str, Any] = {
    "input_base_dir_path": "/usr/local/couture/input/",
    "output_base_dir_path": "/usr/local/couture/processed/",
    "output_filenames_dict": {"tags_file": "video_tags.csv"},
    "input_filenames_dict": {"tags_file": "video_tags.csv"},
    "method_args_dict": {"task_strategy": "parallel"},
}


def test_payload_matches_the_seed_manual_byte_for_byte() -> None:
    assert method_payload(method_id="LoadData", dag_id="video_embedding_dag", **SEED_ARGS) == SEED_PAYLOAD


def test_payload_leaves_out_arguments_not_given() -> None:
    assert method_payload(method_id="m", dag_id="d", input_base_dir_path="/in") == (
        '{"method_id": "m", "dag_id": "d", "input_base_dir_path": "/in"}'
    )


@pytest.mark.parametrize(
    "operator",
    [CoutureSparkOperator, CouturePySparkOperator, CoutureDaskYarnOperator, CoutureTensorflowOperator],
)
def test_each_couture_operator_builds_the_payload_with_its_dag_id(operator: type) -> None:
    with DAG("video_embedding_dag", start_date=datetime(2019, 1, 1)):
        task = operator(task_id="LoadData", method_id="LoadData", code_artifact="x", **SEED_ARGS)
    assert task.method_payload() == SEED_PAYLOAD
    assert json.loads(task.method_payload())["dag_id"] == "video_embedding_dag"


@pytest.mark.parametrize(
    ("operator", "kwargs", "message"),
    [
        (CoutureSparkOperator, {"code_artifact": "a.jar"}, "missing required argument.*method_id"),
        (CoutureSparkOperator, {"method_id": "m"}, "missing required argument.*code_artifact"),
        (CoutureSparkOperator, {"method_id": 1, "code_artifact": "a"}, "method_id of task 't' must be str"),
        (
            CouturePySparkOperator,
            {"method_id": "m", "code_artifact": "a", "input_filenames_dict": {"f": 1}},
            "input_filenames_dict of task 't' must be a dict of strings to strings",
        ),
        (
            CoutureDaskYarnOperator,
            {"method_id": "m", "code_artifact": "a", "method_args_dict": ["x"]},
            "method_args_dict of task 't' must be dict",
        ),
        (
            CoutureTensorflowOperator,
            {"method_id": "m", "code_artifact": "a", "method_args_dict": {"when": datetime(2020, 1, 1)}},
            "method_args_dict of task 't' must be JSON-serialisable",
        ),
        (
            CoutureSparkOperator,
            {"method_id": "m", "code_artifact": "a", "input_base_dir_path": 5},
            "input_base_dir_path of task 't' must be str",
        ),
        (
            SparkOperator,
            {"code_artifact": "a", "application_arguments": "x y"},
            "application_arguments of task 't'",
        ),
        (PySparkOperator, {"code_artifact": "a", "python_conf": 3}, "python_conf of task 't' must be str"),
        (
            TensorflowOperator,
            {"code_artifact": "a", "application_arguments": []},
            "application_arguments of task 't'",
        ),
        (SparkOperator, {"code_artifact": 3}, "code_artifact of task 't' must be str"),
        (
            CoutureJupyterOperator,
            {"input_notebook": "a.py", "output_notebook": "b.ipynb"},
            "input_notebook of task 't' must be a .ipynb notebook path",
        ),
        (
            CoutureJupyterOperator,
            {"input_notebook": "a.ipynb", "output_notebook": "b.ipynb", "parameters": ["a"]},
            "parameters of task 't' must be a dict",
        ),
    ],
)
def test_bad_arguments_fail_when_the_dag_file_is_parsed(
    operator: type, kwargs: dict[str, Any], message: str
) -> None:
    with DAG("d", start_date=datetime(2024, 1, 1)), pytest.raises(Exception, match=message):
        operator(task_id="t", **kwargs)


def test_the_spec_shows_the_jobs_arguments() -> None:
    with DAG("d", start_date=datetime(2024, 1, 1)) as dag:
        SparkOperator(
            task_id="LoadData",
            method_id="run_task",
            app_name="SparkPi",
            class_path="org.apache.spark.examples.SparkPi",
            code_artifact="spark-examples_2.11-2.3.1.jar",
            application_arguments=[10],
        )
        CoutureJupyterOperator(
            task_id="nb", input_notebook="in.ipynb", output_notebook="out.ipynb", parameters={"a": 10}
        )
    spec = dag.to_spec("/d.py")
    assert spec.task("LoadData").operator_extra == {
        "code_artifact": "spark-examples_2.11-2.3.1.jar",
        "method_id": "run_task",
        "app_name": "SparkPi",
        "class_path": "org.apache.spark.examples.SparkPi",
        "application_arguments": [10],
    }
    assert spec.task("nb").operator_extra == {
        "input_notebook": "in.ipynb",
        "output_notebook": "out.ipynb",
        "parameters": {"a": 10},
    }
