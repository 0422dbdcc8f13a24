"""DAG files parsed in a time-limited subprocess, and what the registry emits for each result."""

from __future__ import annotations

import asyncio
import hashlib
import os
import sys
import time
from pathlib import Path

import pytest

from couture_common.events import DagFileProcessed, DagImportFailed, DagParsed
from couture_registry.domain.dag_files import parse_result_events
from couture_registry.parsing import ParseResult, parse_dag_file
from couture_sdk.loading import load_dags_from_file

DAGS = Path(__file__).resolve().parents[1] / "fixtures" / "dags"

SEED_EXAMPLES = {
    "seed_pyspark.py": (
        "PySpark",
        {"Get_Ratings_Data": "CouturePySparkOperator", "Get_Ratings_History": "CouturePySparkOperator"},
    ),
    "seed_tutorial.py": (
        "dag",
        {
            "print_date": "BashOperator",
            "sleep": "BashOperator",
            "templated": "BashOperator",
            "operator_task": "CoutureSparkOperator",
        },
    ),
    "seed_spark_operator.py": ("SparkOperatorExample", {"LoadData": "SparkOperator"}),
    "seed_couture_spark_operator.py": ("video_embedding_dag", {"LoadData": "CoutureSparkOperator"}),
    "seed_couture_dask_yarn_operator.py": ("DaskYarnExample", {"DataCleaning": "CoutureDaskYarnOperator"}),
    "seed_pyspark_operator.py": ("PySparkOperatorExample", {"StatsGeneration": "PySparkOperator"}),
    "seed_couture_pyspark_operator.py": (
        "CouturePySparkExample",
        {"StatsGeneration": "CouturePySparkOperator"},
    ),
    "seed_tensorflow_operator.py": ("TensorflowExample", {"FeatureValidation": "TensorflowOperator"}),
    "seed_couture_tensorflow_operator.py": (
        "CoutureTensorflowExample",
        {"fetch_videos": "CoutureTensorflowOperator"},
    ),
    "seed_jupyter.py": ("JupyterDAG", {"jupyter_task": "CoutureJupyterOperator"}),
    "seed_master_dag.py": ("MasterDag", {"SchemaGeneration": "DagOperator"}),
    "seed_schema_generation.py": ("ExampleSchemaGeneration", {"print_message": "BashOperator"}),
    "seed_print_context.py": ("example_python_operator", {"print_the_context": "PythonOperator"}),
    "seed_xcom_recipes.py": (
        "parsing_recipes",
        {"parse_recipes": "PythonOperator", "download_image": "PythonOperator"},
    ),
}


async def _parse(path: Path, timeout: float = 20.0) -> ParseResult:
    return await parse_dag_file(path, dags_folder=path.parent, timeout=timeout)


@pytest.mark.parametrize("file_name", sorted(SEED_EXAMPLES))
async def test_every_seed_example_parses(file_name: str) -> None:
    dag_id, operators = SEED_EXAMPLES[file_name]
    path = DAGS / file_name
    result = await _parse(path)
    assert result.error is None
    assert result.fileloc == str(path)
    assert result.version == hashlib.sha256(path.read_bytes()).hexdigest()
    [spec] = result.specs
    assert spec.dag_id == dag_id
    assert spec.fileloc == str(path)
    assert {t.task_id: t.operator for t in spec.tasks} == operators


async def test_the_subprocess_spec_is_the_in_process_spec() -> None:
    path = DAGS / "seed_tutorial.py"
    result = await _parse(path)
    expected = load_dags_from_file(path, dags_folder=DAGS)["dag"].to_spec(str(path))
    assert result.specs == (expected,)
    assert expected.schedule.kind == "delta"
    assert expected.task("operator_task").operator_extra["class_path"] == "ai.couture.MainClass"


async def test_a_clean_file_becomes_one_dag_parsed_per_dag_then_file_processed(tmp_path: Path) -> None:
    path = tmp_path / "two.py"
    path.write_text(
        "from airflow import DAG\n"
        "first = DAG('first', schedule_interval=None)\n"
        "from datetime import datetime\n"
        "second = DAG('second', schedule_interval='@once', start_date=datetime(2024, 1, 1))\n"
    )
    result = await _parse(path)
    events = parse_result_events(result)
    assert [type(e) for e in events] == [DagParsed, DagParsed, DagFileProcessed]
    parsed = [e for e in events if isinstance(e, DagParsed)]
    assert [(e.dag_id, e.version) for e in parsed] == [("first", result.version), ("second", result.version)]
    assert parsed[1].spec.schedule.kind == "once"
    assert events[-1] == DagFileProcessed(
        fileloc=str(path), version=result.version, dag_ids=("first", "second")
    )


async def test_an_empty_file_is_processed_with_no_dags(tmp_path: Path) -> None:
    path = tmp_path / "empty.py"
    path.write_text("")
    result = await _parse(path)
    assert (result.specs, result.error) == ((), None)
    assert parse_result_events(result) == [
        DagFileProcessed(fileloc=str(path), version=hashlib.sha256(b"").hexdigest(), dag_ids=())
    ]


async def test_a_helper_module_next_to_dags_is_importable() -> None:
    result = await _parse(DAGS / "uses_helper_in_function.py")
    assert result.error is None
    assert [s.dag_id for s in result.specs] == ["built_in_function"]
    assert result.specs[0].schedule.cron == "0 6 * * 1-5"
    assert result.specs[0].tags == ("helpers",)


async def test_prints_do_not_corrupt_the_result() -> None:
    result = await _parse(DAGS / "noisy_prints.py")
    assert result.error is None
    assert [s.dag_id for s in result.specs] == ["noisy_prints"]


async def test_a_cycle_is_an_import_error() -> None:
    result = await _parse(DAGS / "cycle.py")
    assert result.specs == ()
    assert result.error == "AirflowDagCycleException: Cycle detected in DAG: cycle. Faulty task: c"
    [event] = parse_result_events(result)
    assert event == DagImportFailed(
        fileloc=str(DAGS / "cycle.py"), version=result.version, stacktrace=result.error
    )


async def test_a_duplicate_task_id_is_an_import_error_pointing_at_the_line() -> None:
    result = await _parse(DAGS / "duplicate_task_id.py")
    assert result.error is not None
    assert result.error.startswith(
        'Traceback (most recent call last):\n  File "' + str(DAGS / "duplicate_task_id.py")
    )
    assert ", line 9, in <module>" in result.error
    assert result.error.rstrip().endswith(
        "DuplicateTaskIdFound: Task id 'same' has already been added to the DAG"
    )


async def test_an_unsupported_airflow_import_is_an_import_error() -> None:
    result = await _parse(DAGS / "import_error.py")
    assert "No module named 'airflow.providers': this airflow module is not supported by Couture" in (
        result.error or ""
    )


async def test_a_bad_operator_argument_is_an_import_error_naming_it(tmp_path: Path) -> None:
    source = (DAGS / "seed_couture_spark_operator.py").read_text()
    path = tmp_path / "bad_spark.py"
    path.write_text(
        source.replace("method_args_dict={'task_strategy': \"parallel\"}", "method_args_dict='parallel'")
    )
    result = await _parse(path)
    assert "method_args_dict of task 'LoadData' must be dict, got str" in (result.error or "")


async def test_a_syntax_error_is_an_import_error(tmp_path: Path) -> None:
    path = tmp_path / "broken.py"
    path.write_text("from airflow import DAG\ndag = DAG('x',\n")
    result = await _parse(path)
    assert result.error is not None
    assert f'File "{path}", line 2' in result.error
    assert "SyntaxError: '(' was never closed" in result.error


async def test_sys_exit_in_a_dag_file_is_an_import_error(tmp_path: Path) -> None:
    path = tmp_path / "exits.py"
    path.write_text("import sys\nsys.exit(4)\n")
    result = await _parse(path)
    assert "SystemExit: 4" in (result.error or "")


async def test_a_parser_that_dies_reports_its_exit_code_and_output(tmp_path: Path) -> None:
    path = tmp_path / "dies.py"
    path.write_text("import os\nprint('last words', flush=True)\nos._exit(3)\n")
    result = await _parse(path)
    assert result.error is not None
    assert result.error.startswith("DAG file parser exited with code 3 without a result:")
    assert "last words" in result.error


async def test_a_slow_file_times_out() -> None:
    started = time.monotonic()
    result = await _parse(DAGS / "slow_import.py", timeout=1.0)
    assert time.monotonic() - started < 10
    assert result.error == "DAG file parsing timed out after 1 s"
    assert result.specs == ()


async def test_the_time_limit_kills_what_the_dag_file_started(tmp_path: Path) -> None:
    pid_file = tmp_path / "child.pid"
    path = tmp_path / "spawns.py"
    path.write_text(
        "import subprocess, time\n"
        "child = subprocess.Popen(['sleep', '60'])\n"
        f"open({str(pid_file)!r}, 'w').write(str(child.pid))\n"
        "time.sleep(60)\n"
    )
    result = await _parse(path, timeout=1.5)
    assert result.error == "DAG file parsing timed out after 1.5 s"
    pid = int(pid_file.read_text())
    assert await asyncio.to_thread(_ends_within, pid, 5.0)


def _ends_within(pid: int, seconds: float) -> bool:
    deadline = time.monotonic() + seconds
    while _alive(pid):
        if time.monotonic() > deadline:
            return False
        time.sleep(0.05)
    return True


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    # A zombie waiting for its reaper has exited already.
    try:
        with open(f"/proc/{pid}/stat") as stat:
            return stat.read().split()[2] != "Z"
    except FileNotFoundError:
        return False


async def test_a_missing_file_is_the_callers_error(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError):
        await _parse(tmp_path / "gone.py")


async def test_a_parser_stops_when_its_parent_dies(tmp_path: Path) -> None:
    """The registry killed mid-parse leaves no parser running on."""
    pid_file = tmp_path / "worker.pid"
    parent = tmp_path / "parent.py"
    parent.write_text(
        "import os, subprocess, sys, time\n"
        "worker = subprocess.Popen([sys.executable, '-m', 'couture_registry.parsing.worker',\n"
        f"    {str(DAGS / 'slow_import.py')!r}, {str(DAGS)!r}, {str(tmp_path / 'result.json')!r},\n"
        "    str(os.getpid())])\n"
        f"open({str(pid_file)!r}, 'w').write(str(worker.pid))\n"
        "time.sleep(60)\n"
    )
    process = await asyncio.create_subprocess_exec(sys.executable, str(parent))
    try:
        assert await asyncio.to_thread(_file_appears, pid_file, 10.0)
    finally:
        process.kill()
        await process.wait()
    assert await asyncio.to_thread(_ends_within, int(pid_file.read_text()), 5.0)


def _file_appears(path: Path, seconds: float) -> bool:
    deadline = time.monotonic() + seconds
    while not (path.exists() and path.read_text()):
        if time.monotonic() > deadline:
            return False
        time.sleep(0.05)
    return True
