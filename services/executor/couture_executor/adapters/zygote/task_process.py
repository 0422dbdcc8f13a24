"""Inside a forked task process: isolate, redirect output to the try's log, run the task, report, exit."""

from __future__ import annotations

import contextlib
import ctypes
import io
import logging
import os
import signal
import socket
import sys
import traceback
from pathlib import Path
from types import FrameType
from typing import Any

from couture_executor.adapters.zygote.protocol import TrySpec
from couture_executor.adapters.zygote.task_runtime import SocketTaskRuntime, SupervisorError
from couture_executor.domain.tries import TryResult, failure
from couture_sdk.secrets_masker import MaskingStream

LOG_FORMAT = "[%(asctime)s] {%(filename)s:%(lineno)d} %(levelname)s - %(message)s"

log = logging.getLogger("couture.task")

#: linux/prctl.h
PR_SET_PDEATHSIG = 1


class TaskTerminated(BaseException):
    """The executor asked the task to stop (kill request, timeout, shutdown). A BaseException, like
    Airflow's, so task code catching Exception does not swallow it."""


def _stop_on_sigterm(task: Any) -> None:
    """As Airflow does: let the operator stop what it started, then fail the try; a second SIGTERM
    (or the SIGKILL after the grace period) ends the process outright."""

    def on_sigterm(signum: int, frame: FrameType | None) -> None:
        signal.signal(signal.SIGTERM, signal.SIG_DFL)
        log.error("Received SIGTERM: stopping the task")
        task.on_kill()
        raise TaskTerminated("Task received SIGTERM from the executor")

    signal.signal(signal.SIGTERM, on_sigterm)


def run_task_process(
    spec: TrySpec, task_socket: socket.socket, dags: dict[str, Any] | BaseException, zygote_pid: int
) -> None:
    """Never returns: the process ends with ``os._exit`` so no inherited zygote state is torn down."""
    exit_code = 0
    try:
        os.setsid()
        for signum in (signal.SIGCHLD, signal.SIGTERM, signal.SIGINT, signal.SIGALRM):
            signal.signal(signum, signal.SIG_DFL)
        _stop_with_zygote(zygote_pid)
        _redirect_output(Path(spec.log_path))
        runtime = SocketTaskRuntime(task_socket)
        result = _run(spec, runtime, dags)
        runtime.report(result)
    except BaseException:
        traceback.print_exc()
        exit_code = 1
    finally:
        for stream in (sys.stdout, sys.stderr):
            with contextlib.suppress(OSError, ValueError):
                stream.flush()
        os._exit(exit_code)


def _stop_with_zygote(zygote_pid: int) -> None:
    """SIGTERM this process when the zygote dies, which it does when the executor dies: a try
    nobody supervises any more must not run on unseen (its retry would run beside it)."""
    if sys.platform == "linux":
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(PR_SET_PDEATHSIG, signal.SIGTERM)
    if os.getppid() != zygote_pid:
        raise SystemExit("the executor stopped before this task process started")


def _redirect_output(log_path: Path) -> None:
    log_path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(log_path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)
    os.dup2(fd, 1)
    os.dup2(fd, 2)
    os.close(fd)
    null = os.open(os.devnull, os.O_RDONLY)
    os.dup2(null, 0)
    os.close(null)
    # Secrets the task reads (sensitive variables, connection passwords) never reach its log.
    sys.stdout = MaskingStream(io.TextIOWrapper(os.fdopen(1, "wb", buffering=0), write_through=True))
    sys.stderr = MaskingStream(io.TextIOWrapper(os.fdopen(2, "wb", buffering=0), write_through=True))
    logging.basicConfig(stream=sys.stderr, format=LOG_FORMAT, level=logging.INFO, force=True)


def _run(spec: TrySpec, runtime: SocketTaskRuntime, dags: dict[str, Any] | BaseException) -> TryResult:
    from couture_sdk.context import build_context
    from couture_sdk.execution import execute_task
    from couture_sdk.runtime import set_runtime

    command = spec.command
    log.info(
        "Running %s.%s, run %s, try %d of %d on %s (pid %d)",
        command.dag_id,
        command.task_id,
        command.run_id,
        command.try_number,
        command.max_tries + 1,
        spec.hostname,
        os.getpid(),
    )
    if isinstance(dags, BaseException):
        log.error("The DAG file %s could not be loaded", spec.dag_file, exc_info=dags)
        return failure(f"The DAG file {spec.dag_file} could not be loaded: {dags}")
    dag = dags.get(command.dag_id)
    if dag is None:
        return _logged_failure(
            f"DAG {command.dag_id!r} is not defined in {spec.dag_file} (version {command.dag_version})"
        )
    task = dag.task_dict.get(command.task_id)
    if task is None:
        return _logged_failure(
            f"Task {command.task_id!r} is not in DAG {command.dag_id!r} (version {command.dag_version})"
        )
    set_runtime(runtime)
    _stop_on_sigterm(task)
    context = build_context(
        dag,
        task,
        run_id=command.run_id,
        run_type=command.run_type,
        logical_date=command.logical_date,
        data_interval_start=command.data_interval_start,
        data_interval_end=command.data_interval_end,
        conf=command.conf,
        try_number=command.try_number,
        max_tries=command.max_tries,
        external_trigger=command.external_trigger,
    )
    outcome = execute_task(task, context, on_rendered=lambda fields: _record_rendered(runtime, fields))
    if outcome.error:
        # The try's log is where users look first: the traceback belongs there, not only in the event.
        log.error("Task failed with exception\n%s", outcome.error.rstrip())
    log.info("Task finished: %s", outcome.state.upper())
    return TryResult(
        state=outcome.state,
        error=outcome.error,
        skip_downstream=tuple(outcome.skip_downstream),
        skip_all_descendants=outcome.skip_all_descendants,
        no_retry=outcome.no_retry,
    )


def _record_rendered(runtime: SocketTaskRuntime, fields: dict[str, Any]) -> None:
    # What the try rendered is for people to look at; not being able to record it must not fail it.
    try:
        runtime.record_rendered_fields(fields)
    except SupervisorError as exc:
        log.warning("The rendered template fields could not be recorded: %s", exc)


def _logged_failure(message: str) -> TryResult:
    log.error("%s", message)
    return failure(message)
