"""The zygote's main loop: fork a task process per request, report each one's pid and exit status.

Single-threaded on purpose: ``fork`` is only safe in a process without other threads.
"""

from __future__ import annotations

import argparse
import contextlib
import gc
import io
import os
import selectors
import signal
import socket
import sys
from collections import OrderedDict
from pathlib import Path
from types import FrameType
from typing import Any

from couture_executor.adapters.zygote.protocol import (
    MAX_REQUEST,
    Exited,
    Forked,
    ForkRequest,
    Ready,
    TrySpec,
    fork_request_decoder,
    frame,
)
from couture_executor.adapters.zygote.task_process import run_task_process
from couture_sdk.loading import load_dags_from_file, module_name_for

#: Loaded DAG files kept per version; older versions are dropped first.
DAG_CACHE_SIZE = 64


class DagLoadTimeout(TimeoutError):
    pass


class DagCache:
    """Loaded DAG modules per DAG version (file content hash), so a try does not import its file again.

    Only successful loads are kept: a failure may be passing (a slow disk, a timeout), and the next
    try of that version deserves a fresh attempt. Evicted versions leave ``sys.modules`` too.
    """

    def __init__(self, parse_timeout: float) -> None:
        self._parse_timeout = parse_timeout
        self._loaded: OrderedDict[str, tuple[str, dict[str, Any]]] = OrderedDict()

    def get(self, spec: TrySpec) -> dict[str, Any] | BaseException:
        version = spec.command.dag_version
        cached = self._loaded.get(version)
        if cached is not None:
            self._loaded.move_to_end(version)
            return cached[1]
        path = Path(spec.dag_file)
        try:
            dags = self._load(path, Path(spec.dags_folder))
        except BaseException as exc:
            return exc
        self._loaded[version] = (module_name_for(path), dags)
        while len(self._loaded) > DAG_CACHE_SIZE:
            _, (module_name, _dags) = self._loaded.popitem(last=False)
            sys.modules.pop(module_name, None)
        return dags

    def _load(self, path: Path, dags_folder: Path) -> dict[str, Any]:
        def timed_out(signum: int, frame: FrameType | None) -> None:
            raise DagLoadTimeout(f"loading took longer than {self._parse_timeout} s")

        previous = signal.signal(signal.SIGALRM, timed_out)
        signal.setitimer(signal.ITIMER_REAL, self._parse_timeout)
        try:
            dags = dict(load_dags_from_file(path, dags_folder=dags_folder))
            # Built here, once per version, every forked try inherits the template environment.
            for dag in dags.values():
                dag.get_template_env()
            return dags
        finally:
            signal.setitimer(signal.ITIMER_REAL, 0)
            signal.signal(signal.SIGALRM, previous)


def preload() -> None:
    """Import what every task needs once, here, so each forked task process starts with it.

    A throw-away task is run once as well: the SDK imports some modules (template extensions,
    pretty-printing) only on first use, and each task process would otherwise import them again.
    """
    from couture_sdk.compat import install_airflow_shim

    install_airflow_shim()
    _warm_up()


def _warm_up() -> None:
    from datetime import UTC, datetime

    from couture_sdk.context import build_context
    from couture_sdk.dag import DAG
    from couture_sdk.execution import execute_task
    from couture_sdk.operators.python import PythonOperator

    moment = datetime(2000, 1, 1, tzinfo=UTC)
    with DAG("couture_executor_warm_up", start_date=moment, schedule=None) as dag:
        task = PythonOperator(task_id="warm_up", python_callable=lambda: None)
    context = build_context(
        dag,
        task,
        run_id="warm_up",
        run_type="manual",
        logical_date=moment,
        data_interval_start=moment,
        data_interval_end=moment,
        conf={},
        try_number=1,
        max_tries=0,
        external_trigger=True,
    )
    with contextlib.redirect_stdout(io.StringIO()):
        result = execute_task(task, context)
    if result.state != "success":
        raise RuntimeError(f"the task SDK cannot run a no-op task: {result.error}")


def serve(requests: socket.socket, responses: socket.socket, parse_timeout: float) -> None:
    preload()
    wake_read, wake_write = socket.socketpair()
    wake_read.setblocking(False)
    wake_write.setblocking(False)
    signal.signal(signal.SIGCHLD, lambda signum, frame: None)
    signal.set_wakeup_fd(wake_write.fileno(), warn_on_full_buffer=False)
    selector = selectors.DefaultSelector()
    selector.register(requests, selectors.EVENT_READ)
    selector.register(wake_read, selectors.EVENT_READ)
    cache = DagCache(parse_timeout)
    responses.sendall(frame(Ready(os.getpid())))

    def forget_zygote_state() -> None:
        signal.set_wakeup_fd(-1)
        selector.close()
        for sock in (requests, responses, wake_read, wake_write):
            sock.close()

    while True:
        for key, _ in selector.select():
            if key.fileobj is wake_read:
                _drain(wake_read)
                continue
            message, fds, _flags, _address = socket.recv_fds(requests, MAX_REQUEST, 1)
            if not message:
                return
            request = fork_request_decoder.decode(message)
            _fork(request, fds, cache, responses, forget_zygote_state)
        _reap(responses)


def _fork(
    request: ForkRequest,
    fds: list[int],
    cache: DagCache,
    responses: socket.socket,
    forget_zygote_state: Any,
) -> None:
    task_socket = socket.socket(fileno=fds[0])
    dags = cache.get(request.spec)
    # Objects that exist now are never collected in the child: the collector would touch every
    # one of them and copy the pages the fork shares.
    gc.freeze()
    zygote_pid = os.getpid()
    pid = os.fork()
    if pid == 0:
        forget_zygote_state()
        run_task_process(request.spec, task_socket, dags, zygote_pid)
    task_socket.close()
    responses.sendall(frame(Forked(request.request_id, pid)))


def _reap(responses: socket.socket) -> None:
    while True:
        try:
            pid, status = os.waitpid(-1, os.WNOHANG)
        except ChildProcessError:
            return
        if pid == 0:
            return
        responses.sendall(frame(Exited(pid, os.waitstatus_to_exitcode(status))))


def _drain(sock: socket.socket) -> None:
    try:
        while sock.recv(4096):
            pass
    except BlockingIOError:
        pass


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="Couture executor fork server (started by the executor).")
    parser.add_argument("--requests-fd", type=int, required=True)
    parser.add_argument("--responses-fd", type=int, required=True)
    parser.add_argument("--parse-timeout", type=float, required=True)
    args = parser.parse_args(argv)
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    requests = socket.socket(fileno=args.requests_fd)
    responses = socket.socket(fileno=args.responses_fd)
    serve(requests, responses, args.parse_timeout)
    sys.exit(0)
