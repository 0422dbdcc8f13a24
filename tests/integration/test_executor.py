"""The executor against the real SQLite log and real DAG files: given ExecuteTask commands (and the
config and run events before them), then these events on the log and these try logs on disk."""

from __future__ import annotations

import asyncio
import hashlib
import os
import sys
import textwrap
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import psutil
import pytest
from cryptography.fernet import Fernet

from couture_common.eventlog.sqlite import SqliteEventLog
from couture_common.events import (
    ConnectionSet,
    DagRunRequested,
    Event,
    ExecuteTask,
    KillTask,
    TaskHeartbeat,
    TaskInstanceFinished,
    TaskInstanceRendered,
    TaskInstanceStarted,
    VariableSet,
    XComPushed,
    envelope,
)
from couture_common.settings import Settings
from couture_common.topics import CONFIG, HEARTBEAT, RUN
from couture_executor.adapters.dag_files import BlobDagFileStore
from couture_executor.app import ExecutorService

pytestmark = pytest.mark.timeout(60)

T0 = datetime(2024, 1, 1, tzinfo=UTC)
RUN_ID = "manual__2024-01-01T00:00:00+00:00"

DAG_FILE = """
import os
import signal
import time

from datetime import datetime

from airflow import DAG
from airflow.hooks.base import BaseHook
from airflow.models import Variable
from airflow.operators.bash import BashOperator
from airflow.operators.dag_operator import DagOperator
from airflow.operators.python import PythonOperator


def hello():
    print("hello from the task")
    return {"rows": 3}


def add_one(ti):
    return ti.xcom_pull(task_ids="extract")["rows"] + 1


def secrets():
    return [Variable.get("greeting"), BaseHook.get_connection("warehouse").password]


def remember():
    Variable.set("last_seen", "2024-01-01")


def order(context, dag_run_obj):
    dag_run_obj.payload = {"source": "etl"}
    return dag_run_obj


def boom():
    raise ValueError("boom")


def die():
    os.kill(os.getpid(), signal.SIGKILL)


with DAG("etl", start_date=datetime(2024, 1, 1), schedule=None) as dag:
    PythonOperator(task_id="hello", python_callable=hello)
    PythonOperator(task_id="transform", python_callable=add_one)
    PythonOperator(task_id="secrets", python_callable=secrets)
    PythonOperator(task_id="boom", python_callable=boom)
    PythonOperator(task_id="die", python_callable=die)
    PythonOperator(task_id="noop", python_callable=lambda: None)
    PythonOperator(task_id="remember", python_callable=remember)
    DagOperator(task_id="trigger", run_dag_id="report", python_callable=order)
    BashOperator(task_id="nap", bash_command="sleep 0.5")
    BashOperator(task_id="templated", bash_command="echo {{ ds }} {{ var.value.api_key }}")
    BashOperator(task_id="skip", bash_command="echo skipping; exit 99")
    BashOperator(task_id="sleep", bash_command="sleep 300 & echo $! > {{ params.pid_file }}; wait")
"""


@dataclass
class Executor:
    log: SqliteEventLog
    settings: Settings
    dag_file: Path
    version: str
    service: ExecutorService

    def command(
        self, task_id: str, *, try_number: int = 1, max_tries: int = 0, run_id: str = RUN_ID, **fields: Any
    ) -> ExecuteTask:
        return ExecuteTask(
            dag_id="etl",
            run_id=run_id,
            task_id=task_id,
            try_number=try_number,
            max_tries=max_tries,
            dag_version=fields.pop("dag_version", self.version),
            fileloc=fields.pop("fileloc", str(self.dag_file)),
            run_type="manual",
            logical_date=T0,
            data_interval_start=T0,
            data_interval_end=T0,
            external_trigger=True,
            **fields,
        )

    async def send(self, *events: Event) -> None:
        await self.log.append([envelope(e, actor="test") for e in events])

    async def events(self, topic: str = RUN) -> list[Event]:
        consumer = self.log.consumer([topic])
        try:
            found: list[Event] = []
            while records := await consumer.poll(timeout=0):
                found.extend(r.envelope.payload for r in records)
            return found
        finally:
            await consumer.close()

    async def finished(self, task_id: str, try_number: int = 1, timeout: float = 20) -> TaskInstanceFinished:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            for event in await self.events():
                if (
                    isinstance(event, TaskInstanceFinished)
                    and event.task_id == task_id
                    and event.try_number == try_number
                ):
                    return event
            await asyncio.sleep(0.05)
        raise AssertionError(f"no TaskInstanceFinished for {task_id} try {try_number} within {timeout} s")

    async def started(self, task_id: str, timeout: float = 20) -> TaskInstanceStarted:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            for event in await self.events():
                if isinstance(event, TaskInstanceStarted) and event.task_id == task_id:
                    return event
            await asyncio.sleep(0.05)
        raise AssertionError(f"no TaskInstanceStarted for {task_id} within {timeout} s")

    async def heartbeat(self, task_id: str, timeout: float = 10) -> TaskHeartbeat:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            for event in await self.events(HEARTBEAT):
                if isinstance(event, TaskHeartbeat) and event.task_id == task_id:
                    return event
            await asyncio.sleep(0.05)
        raise AssertionError(f"no TaskHeartbeat for {task_id} within {timeout} s")

    async def of_task(self, task_id: str) -> list[Event]:
        return [e for e in await self.events() if getattr(e, "task_id", None) == task_id]


def new_service(log: SqliteEventLog, settings: Settings) -> ExecutorService:
    return ExecutorService(
        log,
        settings,
        dag_file_store=BlobDagFileStore(settings.blobs_path),
        executor_id="executor-1",
        kill_grace=1.0,
        stop_grace=1.0,
    )


@pytest.fixture
async def executor(tmp_path: Path) -> AsyncIterator[Executor]:
    dag_file = tmp_path / "dags" / "etl.py"
    dag_file.parent.mkdir()
    dag_file.write_text(DAG_FILE)
    settings = Settings(
        home=tmp_path,
        fernet_key=Fernet.generate_key().decode(),
        heartbeat_interval=0.2,
        executor_slots=4,
    )
    log = SqliteEventLog(tmp_path / "events.db", sync="normal")
    await log.start()
    service = new_service(log, settings)
    await service.start()
    version = hashlib.sha256(dag_file.read_bytes()).hexdigest()
    executor = Executor(log, settings, dag_file, version, service)
    try:
        yield executor
    finally:
        await executor.service.stop()
        await log.close()


async def test_a_try_succeeds_with_its_output_in_its_log_and_its_return_value_as_xcom(
    executor: Executor,
) -> None:
    await executor.send(executor.command("hello"))

    finished = await executor.finished("hello")

    assert finished.state == "success"
    started, rendered, xcom = [
        e for e in await executor.of_task("hello") if not isinstance(e, TaskInstanceFinished)
    ]
    assert isinstance(started, TaskInstanceStarted)
    assert (started.executor_id, started.try_number) == ("executor-1", 1)
    assert isinstance(rendered, TaskInstanceRendered)
    assert rendered.rendered_fields == {"templates_dict": None, "op_args": [], "op_kwargs": {}}
    assert isinstance(xcom, XComPushed)
    assert (xcom.key, xcom.value) == ("return_value", '{"rows": 3}')
    assert started.log_path == str(
        executor.settings.logs_path / "dag_id=etl" / f"run_id={RUN_ID}" / "task_id=hello" / "attempt=1.log"
    )
    assert "hello from the task" in read(Path(started.log_path))


async def test_xcom_pull_sees_an_upstream_xcom_appended_before_the_command(executor: Executor) -> None:
    [record] = await executor.log.append(
        [
            envelope(
                XComPushed(
                    dag_id="etl",
                    run_id=RUN_ID,
                    task_id="extract",
                    try_number=1,
                    key="return_value",
                    value='{"rows": 41}',
                ),
                actor="test",
            )
        ]
    )
    await executor.send(
        executor.command("transform", run_log_partition=record.partition, run_log_offset=record.offset)
    )

    assert (await executor.finished("transform")).state == "success"
    [xcom] = [e for e in await executor.of_task("transform") if isinstance(e, XComPushed)]
    assert xcom.value == "42"


async def test_variables_and_connection_passwords_are_decrypted_for_the_task(executor: Executor) -> None:
    box = executor.settings.secret_box
    await executor.send(
        VariableSet(key="greeting", value=box.encrypt("hi there")),
        ConnectionSet(
            entry_id="w1", conn_id="warehouse", conn_type="postgres", password=box.encrypt("s3cret")
        ),
    )
    await executor.send(executor.command("secrets"))

    assert (await executor.finished("secrets")).state == "success"
    [xcom] = [e for e in await executor.of_task("secrets") if isinstance(e, XComPushed)]
    assert xcom.value == '["hi there", "s3cret"]'


async def test_a_try_records_its_rendered_template_with_the_secret_it_read_masked(executor: Executor) -> None:
    box = executor.settings.secret_box
    await executor.send(VariableSet(key="api_key", value=box.encrypt("tok-51d0a9")))
    await executor.send(executor.command("templated", try_number=2))

    assert (await executor.finished("templated", 2)).state == "success"
    [rendered] = [e for e in await executor.of_task("templated") if isinstance(e, TaskInstanceRendered)]
    assert rendered.try_number == 2
    assert rendered.rendered_fields["bash_command"] == "echo 2024-01-01 ***"
    log_path = (await executor.started("templated")).log_path
    assert "2024-01-01 ***" in read(Path(log_path or ""))


async def test_a_variable_set_by_a_task_enters_the_log_encrypted(executor: Executor) -> None:
    await executor.send(executor.command("remember"))

    assert (await executor.finished("remember")).state == "success"
    [variable] = [e for e in await executor.events(CONFIG) if isinstance(e, VariableSet)]
    assert variable.key == "last_seen"
    assert "2024-01-01" not in variable.value
    assert executor.settings.secret_box.decrypt(variable.value) == "2024-01-01"


async def test_a_dag_operator_requests_a_run_of_the_other_dag(executor: Executor) -> None:
    await executor.send(executor.command("trigger"))

    assert (await executor.finished("trigger")).state == "success"
    [request] = [e for e in await executor.events() if isinstance(e, DagRunRequested)]
    assert (request.dag_id, request.conf, request.run_type) == ("report", {"source": "etl"}, "manual")
    assert request.triggered_by_task == f"etl/{RUN_ID}/trigger"
    [xcom] = [e for e in await executor.of_task("trigger") if isinstance(e, XComPushed)]
    assert (xcom.key, xcom.value) == ("trigger_run_id", f'"{request.run_id}"')


async def test_bash_exit_99_skips_the_task(executor: Executor) -> None:
    await executor.send(executor.command("skip"))
    assert (await executor.finished("skip")).state == "skipped"


async def test_an_exception_is_retried_while_tries_are_left_then_fails(executor: Executor) -> None:
    await executor.send(executor.command("boom", try_number=1, max_tries=1))
    first = await executor.finished("boom", 1)
    await executor.send(executor.command("boom", try_number=2, max_tries=1))
    second = await executor.finished("boom", 2)

    assert first.state == "up_for_retry"
    assert second.state == "failed"
    assert second.error is not None and "ValueError: boom" in second.error


async def test_execution_timeout_kills_the_task(executor: Executor) -> None:
    pid_file = executor.dag_file.parent / "timeout.pid"
    started = time.monotonic()
    await executor.send(executor.command("sleep", execution_timeout=1.0, conf={"pid_file": str(pid_file)}))

    finished = await executor.finished("sleep")

    assert finished.state == "failed"
    assert finished.error == "Task exceeded execution_timeout of 1 s"
    assert time.monotonic() - started < 10
    log_path = (await executor.started("sleep")).log_path
    assert "Task exceeded execution_timeout of 1 s: stopping the task" in read(Path(log_path or ""))
    assert_gone(int(read(pid_file)))


async def test_kill_task_stops_a_sleeping_bash_task_and_its_children(executor: Executor) -> None:
    pid_file = executor.dag_file.parent / "kill.pid"
    await executor.send(executor.command("sleep", max_tries=3, conf={"pid_file": str(pid_file)}))
    started = await executor.started("sleep")
    await wait_for_file(pid_file)
    beat = await executor.heartbeat("sleep")

    await executor.send(
        KillTask(dag_id="etl", run_id=RUN_ID, task_id="sleep", try_number=1, reason="marked failed by alice")
    )
    finished = await executor.finished("sleep")

    assert finished.state == "failed"
    assert finished.error == "Task was killed: marked failed by alice"
    assert_gone(int(read(pid_file)), started.pid)
    log_text = read(Path(started.log_path or ""))
    assert "ERROR - Task was killed: marked failed by alice: stopping the task" in log_text
    assert "Received SIGTERM: stopping the task" in log_text
    assert (beat.pid, beat.try_number, beat.executor_id) == (started.pid, 1, "executor-1")


async def test_a_task_process_killed_by_sigkill_fails_with_the_signal(executor: Executor) -> None:
    await executor.send(executor.command("die"))

    finished = await executor.finished("die")

    assert finished.state == "failed"
    assert finished.error == "Task process was killed by SIGKILL (9) before it reported a result"


async def test_no_more_tries_run_at_once_than_the_executor_has_slots(executor: Executor) -> None:
    run_ids = [f"manual__{i}" for i in range(6)]
    await executor.send(*(executor.command("nap", run_id=run_id) for run_id in run_ids))
    for run_id in run_ids:
        await wait_for_finish_in(executor, run_id)

    running, most = 0, 0
    for event in await executor.of_task("nap"):
        running += isinstance(event, TaskInstanceStarted) - isinstance(event, TaskInstanceFinished)
        most = max(most, running)
    assert most == executor.settings.executor_slots == 4


async def wait_for_finish_in(executor: Executor, run_id: str, timeout: float = 20) -> None:
    deadline = time.monotonic() + timeout
    while not [
        e for e in await executor.events() if isinstance(e, TaskInstanceFinished) and e.run_id == run_id
    ]:
        assert time.monotonic() < deadline, f"run {run_id} did not finish"
        await asyncio.sleep(0.05)


async def test_a_lost_fork_server_is_replaced_and_tries_go_on(executor: Executor) -> None:
    [zygote] = [
        p for p in psutil.Process().children() if "couture_executor.adapters.zygote" in " ".join(p.cmdline())
    ]
    zygote.kill()
    zygote.wait(5)

    await executor.send(executor.command("hello"))

    assert (await executor.finished("hello")).state == "success"


async def test_a_redelivered_command_for_a_finished_try_does_not_run_again(executor: Executor) -> None:
    command = executor.command("hello")
    await executor.send(command)
    await executor.finished("hello")
    await executor.service.stop()
    executor.service = new_service(executor.log, executor.settings)
    await executor.service.start()

    await executor.send(command, executor.command("noop"))
    await executor.finished("noop")

    assert len([e for e in await executor.of_task("hello") if isinstance(e, TaskInstanceStarted)]) == 1


async def test_the_registrys_copy_of_a_version_runs_after_the_file_changed(executor: Executor) -> None:
    blob = executor.settings.blobs_path / "dags" / f"{executor.version}.py"
    blob.parent.mkdir(parents=True)
    blob.write_text(DAG_FILE)
    executor.dag_file.write_text("raise RuntimeError('the new version is broken')\n")

    await executor.send(executor.command("hello"))

    assert (await executor.finished("hello")).state == "success"


async def test_a_dag_file_that_fails_to_import_fails_the_try_with_the_cause_in_its_log(
    executor: Executor,
) -> None:
    broken = executor.dag_file.parent / "broken.py"
    broken.write_text("raise RuntimeError('the warehouse module is missing')\n")
    version = hashlib.sha256(broken.read_bytes()).hexdigest()

    await executor.send(executor.command("hello", fileloc=str(broken), dag_version=version))

    finished = await executor.finished("hello")
    assert finished.state == "failed"
    assert finished.error is not None
    assert f"The DAG file {broken} could not be loaded: the warehouse module is missing" in finished.error
    started = await executor.started("hello")
    assert "RuntimeError: the warehouse module is missing" in read(Path(started.log_path or ""))


async def test_a_task_missing_from_its_dag_version_fails_the_try(executor: Executor) -> None:
    await executor.send(executor.command("vanished"))

    finished = await executor.finished("vanished")
    assert finished.state == "failed"
    assert finished.error == f"Task 'vanished' is not in DAG 'etl' (version {executor.version})"


async def test_a_dag_file_changed_since_its_version_is_never_run(executor: Executor) -> None:
    executor.dag_file.write_text(DAG_FILE + "\n# edited\n")
    await executor.send(executor.command("hello"))

    finished = await executor.finished("hello")

    assert finished.state == "failed"
    assert finished.error is not None and "refusing to run different code" in finished.error
    assert not [e for e in await executor.of_task("hello") if isinstance(e, TaskInstanceStarted)]


async def test_stopping_the_executor_ends_running_tries_for_a_retry(executor: Executor) -> None:
    pid_file = executor.dag_file.parent / "stop.pid"
    await executor.send(executor.command("sleep", max_tries=1, conf={"pid_file": str(pid_file)}))
    await executor.started("sleep")
    await wait_for_file(pid_file)

    await executor.service.stop()

    finished = await executor.finished("sleep", timeout=1)
    assert finished.state == "up_for_retry"
    assert finished.error == "The executor stopped before the task finished"
    assert_gone(int(read(pid_file)))


EXECUTOR_PROCESS = """
import asyncio, sys
from pathlib import Path
from couture_common.eventlog.sqlite import SqliteEventLog
from couture_common.settings import Settings
from couture_executor.adapters.dag_files import BlobDagFileStore
from couture_executor.app import ExecutorService

async def main():
    settings = Settings()
    log = SqliteEventLog(Path(sys.argv[1]), sync="normal")
    await log.start()
    service = ExecutorService(
        log, settings, dag_file_store=BlobDagFileStore(settings.blobs_path), executor_id="doomed"
    )
    await service.start()
    await asyncio.Event().wait()

asyncio.run(main())
"""


async def test_a_try_stops_when_its_executor_process_dies(executor: Executor) -> None:
    await executor.service.stop()
    env = {
        **os.environ,
        "COUTURE_HOME": str(executor.settings.home),
        "COUTURE_FERNET_KEY": executor.settings.fernet_key or "",
    }
    doomed = await asyncio.create_subprocess_exec(
        sys.executable, "-c", EXECUTOR_PROCESS, str(executor.log.path), env=env
    )
    pid_file = executor.dag_file.parent / "orphan.pid"
    try:
        await executor.send(executor.command("sleep", conf={"pid_file": str(pid_file)}))
        started = await executor.started("sleep")
        assert started.executor_id == "doomed"
        await wait_for_file(pid_file)
    finally:
        doomed.kill()
        await doomed.wait()

    assert_gone(started.pid, int(read(pid_file)))


async def wait_for_file(path: Path, timeout: float = 10) -> None:
    deadline = time.monotonic() + timeout
    while not read(path).strip():
        assert time.monotonic() < deadline, f"{path} was not written"
        await asyncio.sleep(0.05)


def read(path: Path) -> str:
    return path.read_text() if path.exists() else ""


def assert_gone(*pids: int, timeout: float = 5) -> None:
    """Every process in ``pids`` ends within ``timeout``; survivors are killed, then reported."""
    deadline = time.monotonic() + timeout
    alive = set(pids)
    while alive and time.monotonic() < deadline:
        alive = {pid for pid in alive if is_running(pid)}
        time.sleep(0.05)
    for pid in alive:
        os.kill(pid, 9)
    assert not alive, f"processes {sorted(alive)} were still running"


def is_running(pid: int) -> bool:
    try:
        return psutil.Process(pid).status() != psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return False


DAG_FILE = textwrap.dedent(DAG_FILE)
