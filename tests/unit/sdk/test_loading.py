"""Loading DAG files in-process: the DAGs found, and the seed examples run as the manual says."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from couture_sdk.dag import DAG
from couture_sdk.exceptions import AirflowDagCycleException, DuplicateTaskIdFound
from couture_sdk.loading import load_dags_from_file, module_name_for
from couture_sdk.local_runtime import LocalRuntime

from .conftest import RunTask

DAGS = Path(__file__).resolve().parents[2] / "fixtures" / "dags"


def _load(name: str) -> dict[str, DAG]:
    return load_dags_from_file(DAGS / name, dags_folder=DAGS)


def test_a_module_level_dag_is_found_with_its_file() -> None:
    dags = _load("seed_pyspark.py")
    assert list(dags) == ["PySpark"]
    assert dags["PySpark"].fileloc == str(DAGS / "seed_pyspark.py")
    assert dags["PySpark"].task_ids == ["Get_Ratings_Data", "Get_Ratings_History"]


def test_a_dag_opened_with_with_is_found_without_a_name(tmp_path: Path) -> None:
    dags = _load("uses_helper_in_function.py")
    assert list(dags) == ["built_in_function"]
    assert dags["built_in_function"].get_task("hello").owner == "helpers"


def test_a_file_without_dags_gives_none(tmp_path: Path) -> None:
    empty = tmp_path / "empty.py"
    empty.write_text("")
    assert load_dags_from_file(empty, dags_folder=tmp_path) == {}
    assert _load("dag_helpers.py") == {}


def test_several_dags_in_one_file(tmp_path: Path) -> None:
    path = tmp_path / "many.py"
    path.write_text(
        "from airflow import DAG\n"
        "for name in ('one', 'two'):\n"
        "    globals()[name] = DAG(name, schedule_interval=None)\n"
    )
    assert sorted(load_dags_from_file(path, dags_folder=tmp_path)) == ["one", "two"]


def test_a_cycle_is_reported_when_the_file_is_loaded() -> None:
    with pytest.raises(AirflowDagCycleException, match=r"Cycle detected in DAG: cycle\. Faulty task: c"):
        _load("cycle.py")


def test_a_duplicate_task_id_is_reported_when_the_file_is_loaded() -> None:
    with pytest.raises(DuplicateTaskIdFound, match="Task id 'same' has already been added to the DAG"):
        _load("duplicate_task_id.py")


def test_files_with_the_same_name_get_different_modules(tmp_path: Path) -> None:
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    assert module_name_for(tmp_path / "a" / "etl.py") != module_name_for(tmp_path / "b" / "etl.py")


def test_every_trigger_rule_fixture_task_is_built() -> None:
    dag = _load("trigger_rules.py")["trigger_rules"]
    rules = {t.task_id: t.trigger_rule for t in dag.tasks if t.task_id.startswith("rule_")}
    assert rules["rule_dummy"] == "always"
    assert rules["rule_none_failed_or_skipped"] == "none_failed_min_one_success"
    assert len(rules) == 14


def _run_in_order(dag: DAG, run_task: RunTask, **kwargs: Any) -> dict[str, str]:
    states: dict[str, str] = {}
    for task in dag.tasks:
        result, _ = run_task(task, run_id="manual__1", external_trigger=True, **kwargs)
        states[task.task_id] = result.state
    return states


def test_the_seed_xcom_example_pulls_what_parse_recipes_returned(
    run_task: RunTask, runtime: LocalRuntime, capfd: Any
) -> None:
    dag = _load("seed_xcom_recipes.py")["parsing_recipes"]
    assert _run_in_order(dag, run_task) == {"parse_recipes": "success", "download_image": "success"}
    out = capfd.readouterr().out
    assert "Printing Task 1 values in Download_image\nRETURNS parse_recipes\n" in out
    assert (
        runtime.xcoms[("parsing_recipes", "manual__1", "download_image", "return_value")] == "download_image"
    )


def test_the_seed_print_context_example(run_task: RunTask, capfd: Any) -> None:
    dag = _load("seed_print_context.py")["example_python_operator"]
    assert _run_in_order(dag, run_task) == {"print_the_context": "success"}
    out = capfd.readouterr().out
    assert "'task_instance_key_str': 'example_python_operator__print_the_context__20240310'" in out
    assert "Whatever you return gets printed in the logs" in out


def test_the_seed_master_dag_triggers_its_child(run_task: RunTask, runtime: LocalRuntime) -> None:
    dag = _load("seed_master_dag.py")["MasterDag"]
    assert _run_in_order(dag, run_task) == {"SchemaGeneration": "success"}
    [triggered] = runtime.triggered
    assert (triggered.dag_id, triggered.conf) == ("ExampleSchemaGeneration", {"message": "Hii there!!"})
    child = _load("seed_schema_generation.py")["ExampleSchemaGeneration"]
    result, _ = run_task(child.get_task("print_message"), conf=triggered.conf, external_trigger=True)
    assert result.state == "success"
    assert (
        runtime.xcoms[
            (
                "ExampleSchemaGeneration",
                "scheduled__2024-03-10T00:00:00+00:00",
                "print_message",
                "return_value",
            )
        ]
        == "Hii there!!"
    )


def test_the_tutorial_templates_and_dependencies(run_task: RunTask, runtime: LocalRuntime) -> None:
    dag = _load("seed_tutorial.py")["dag"]
    assert dag.get_task("templated").upstream_task_ids == {"print_date", "sleep"}
    assert dag.get_task("operator_task").upstream_task_ids == {"templated"}
    result, _ = run_task(dag.get_task("templated"))
    assert result.state == "success"
    assert runtime.xcoms[("dag", "scheduled__2024-03-10T00:00:00+00:00", "templated", "return_value")] == (
        "2024-03-10 2024-03-17 Parameter I passed in"
    )


def test_the_xcom_fixture_pulls_single_values_and_lists(run_task: RunTask, runtime: LocalRuntime) -> None:
    dag = _load("xcom_push_pull.py")["xcom_push_pull"]
    assert _run_in_order(dag, run_task) == {"push": "success", "echo": "success", "pull": "success"}
    assert runtime.xcoms[("xcom_push_pull", "manual__1", "echo", "return_value")] == "6"
    assert runtime.xcoms[("xcom_push_pull", "manual__1", "pull", "return_value")] == {
        "single": [1, 2, 3],
        "both": [[1, 2, 3], "6"],
        "extra": {"rows": 3},
    }


def test_the_retries_fixture_succeeds_on_its_second_try(run_task: RunTask) -> None:
    task = _load("retries.py")["retries"].get_task("flaky")
    assert run_task(task, try_number=1)[0].state == "failed"
    assert run_task(task, try_number=2)[0].state == "success"


def test_the_branching_fixture_follows_its_param(run_task: RunTask) -> None:
    dag = _load("branching.py")["branching"]
    assert run_task(dag.get_task("pick"))[0].skip_downstream == ("branch_b",)
    assert run_task(dag.get_task("pick"), conf={"take": "b"})[0].skip_downstream == ("branch_a",)


def test_a_custom_operator_written_for_airflow_1_10(
    tmp_path: Path, run_task: RunTask, runtime: LocalRuntime
) -> None:
    path = tmp_path / "custom.py"
    path.write_text(
        "from datetime import datetime\n"
        "from airflow import DAG\n"
        "from airflow.models import BaseOperator\n"
        "from airflow.utils.decorators import apply_defaults\n"
        "\n"
        "class GreetOperator(BaseOperator):\n"
        "    template_fields = ('greeting',)\n"
        "\n"
        "    @apply_defaults\n"
        "    def __init__(self, greeting, *args, **kwargs):\n"
        "        super(GreetOperator, self).__init__(*args, **kwargs)\n"
        "        self.greeting = greeting\n"
        "\n"
        "    def execute(self, context):\n"
        "        return self.greeting + ' from ' + self.owner\n"
        "\n"
        "dag = DAG('custom', start_date=datetime(2024, 1, 1), default_args={'owner': 'couture'})\n"
        "GreetOperator(task_id='greet', greeting='hello {{ ds }}', dag=dag)\n"
    )
    dag = load_dags_from_file(path, dags_folder=tmp_path)["custom"]
    result, _ = run_task(dag.get_task("greet"))
    assert result.state == "success"
    pushed = runtime.xcoms[("custom", "scheduled__2024-03-10T00:00:00+00:00", "greet", "return_value")]
    assert pushed == "hello 2024-03-10 from couture"
