"""One try from fork to result: start the task process, serve it, enforce its timeout, honour kills."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
import socket
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import msgspec

from couture_common.events import ExecuteTask, TaskInstanceStarted, XComPushed, envelope
from couture_executor.adapters.dag_files import DagFileMismatchError, DagFileStore
from couture_executor.adapters.process_tree import ProcessTree
from couture_executor.adapters.zygote.client import TaskProcess, Zygote, ZygoteError
from couture_executor.adapters.zygote.protocol import (
    HEADER,
    Reply,
    TrySpec,
    frame,
    frame_length,
    task_request_decoder,
)
from couture_executor.domain.log_paths import try_log_path
from couture_executor.domain.run_view import RunView
from couture_executor.domain.tries import TryKey, TryResult, exit_description, failure, finished_event
from couture_executor.supervisor.batching import BatchingAppender
from couture_executor.supervisor.runtime_service import RuntimeService, TryChannel

logger = logging.getLogger(__name__)

#: After a task process exits, how long its last messages may take to be read.
DRAIN_TIMEOUT = 5.0


@dataclass
class RunningTry:
    command: ExecuteTask
    process: TaskProcess
    tree: ProcessTree
    start_date: datetime
    log_path: Path
    #: Why the supervisor ended the try, and whether that failure may be retried.
    stopped_because: str | None = None
    retry_after_stop: bool = False


class TryRunner:
    def __init__(
        self,
        *,
        appender: BatchingAppender,
        zygote: Zygote,
        dag_files: DagFileStore,
        runtime: RuntimeService,
        run_view: RunView,
        logs_path: Path,
        dags_folder: Path,
        executor_id: str,
        hostname: str,
        kill_grace: float,
        now: Callable[[], datetime],
    ) -> None:
        self._appender = appender
        self._zygote = zygote
        self._dag_files = dag_files
        self._runtime = runtime
        self._run_view = run_view
        self._logs_path = logs_path
        self._dags_folder = dags_folder
        self._executor_id = executor_id
        self._hostname = hostname
        self._kill_grace = kill_grace
        self._now = now
        self._actor = f"service:executor/{executor_id}"
        self.running: dict[TryKey, RunningTry] = {}
        self._terminations: set[asyncio.Task[None]] = set()

    async def run(self, command: ExecuteTask, started: Callable[[], Awaitable[None]]) -> None:
        """Run the try to its end and append its result; ``started`` is awaited once it is on the log."""
        key = TryKey.of(command)
        log_path = Path(try_log_path(self._logs_path, key))
        supervisor_end, task_end = socket.socketpair()
        try:
            process = await self._fork(command, log_path, task_end)
        except (DagFileMismatchError, ZygoteError) as exc:
            supervisor_end.close()
            await self._fail_unstarted(command, log_path, exc)
            await started()
            return
        finally:
            task_end.close()
        start_date = self._now()
        running = self.running[key] = RunningTry(
            command, process, ProcessTree(process.pid), start_date, log_path
        )
        try:
            started_event = self._started_event(command, process.pid, start_date, log_path)
            await self._appender.append([envelope(started_event, actor=self._actor)])
            await started()
            channel = TryChannel(command)
            result = await self._supervise(running, channel, supervisor_end)
            if channel.result is None and running.stopped_because is None:
                _append_to_task_log(log_path, self._now(), result.error or "")
            await self._finish(command, result, start_date=start_date, pushes=channel.pushes)
        except BaseException:
            # Without a supervisor to report it, the try must not go on running unseen.
            running.tree.signal(signal.SIGKILL)
            raise
        finally:
            supervisor_end.close()
            del self.running[key]

    async def _fork(self, command: ExecuteTask, log_path: Path, task_end: socket.socket) -> TaskProcess:
        dag_file = self._dag_files.local_path(command.fileloc, command.dag_version)
        spec = TrySpec(
            command=command,
            dag_file=str(dag_file),
            dags_folder=str(self._dags_folder),
            log_path=str(log_path),
            hostname=self._hostname,
        )
        return await self._zygote.fork(spec, task_end)

    async def _fail_unstarted(self, command: ExecuteTask, log_path: Path, error: Exception) -> None:
        if isinstance(error, ZygoteError):
            message = f"The executor could not start a task process: {error}"
        else:
            message = str(error)
        _append_to_task_log(log_path, self._now(), message)
        await self._finish(command, failure(message), start_date=None, pushes=[])

    async def _supervise(self, running: RunningTry, channel: TryChannel, sock: socket.socket) -> TryResult:
        """Answer the task process until it exits (or is stopped); what it reported, or why it ended."""
        serving = asyncio.create_task(self._serve(channel, sock))
        try:
            returncode = await self._wait_for_exit(running)
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(DRAIN_TIMEOUT):
                    await asyncio.shield(serving)
        finally:
            serving.cancel()
        return self._result(running, channel, returncode)

    def stop(self, key: TryKey, reason: str, *, retry: bool) -> bool:
        """End a running try: SIGTERM now, SIGKILL after the grace period. False when it is not running."""
        running = self.running.get(key)
        if running is None:
            return False
        if running.stopped_because is None:
            running.stopped_because = reason
            running.retry_after_stop = retry
            termination = asyncio.create_task(self._terminate(running), name=f"terminate {key}")
            self._terminations.add(termination)
            termination.add_done_callback(self._terminations.discard)
        return True

    async def _wait_for_exit(self, running: RunningTry) -> int | None:
        timeout = running.command.execution_timeout
        try:
            async with asyncio.timeout(timeout):
                return await asyncio.shield(running.process.exited)
        except TimeoutError:
            if running.stopped_because is None:
                running.stopped_because = f"Task exceeded execution_timeout of {timeout:g} s"
                running.retry_after_stop = True
                await self._terminate(running)
        except ZygoteError:
            return None
        try:
            return await running.process.exited
        except ZygoteError:
            return None

    async def _terminate(self, running: RunningTry) -> None:
        _append_to_task_log(running.log_path, self._now(), f"{running.stopped_because}: stopping the task")
        running.tree.signal(signal.SIGTERM)
        with contextlib.suppress(TimeoutError, ZygoteError):
            async with asyncio.timeout(self._kill_grace):
                await asyncio.shield(running.process.exited)
        # Also for a process that obeyed SIGTERM: programs it started in their own session may not have.
        running.tree.signal(signal.SIGKILL)

    def _result(self, running: RunningTry, channel: TryChannel, returncode: int | None) -> TryResult:
        reported = channel.result
        if reported is not None and (reported.state != "failed" or running.stopped_because is None):
            return reported
        if running.stopped_because is not None:
            return failure(running.stopped_because, no_retry=not running.retry_after_stop)
        if reported is not None:
            return reported
        if returncode is None:
            return failure("The executor's fork server stopped; the task process's exit status is unknown")
        return failure(exit_description(returncode))

    async def _serve(self, channel: TryChannel, sock: socket.socket) -> None:
        reader, writer = await asyncio.open_connection(sock=sock)
        try:
            while True:
                try:
                    header = await reader.readexactly(HEADER.size)
                    body = await reader.readexactly(frame_length(header))
                except (asyncio.IncompleteReadError, ConnectionError):
                    return
                try:
                    request = task_request_decoder.decode(body)
                except msgspec.ValidationError as exc:
                    reply = Reply(ok=False, error=f"the executor cannot read this request: {exc}")
                else:
                    reply = await self._runtime.answer(channel, request)
                writer.write(frame(reply))
                await writer.drain()
        except ConnectionError:
            return
        finally:
            writer.close()

    async def _finish(
        self,
        command: ExecuteTask,
        result: TryResult,
        *,
        start_date: datetime | None,
        pushes: list[XComPushed],
    ) -> None:
        finished = finished_event(command, result, start_date=start_date, end_date=self._now())
        await self._appender.append([envelope(e, actor=self._actor) for e in (*pushes, finished)])
        self._run_view.record_finished(TryKey.of(command))

    def _started_event(
        self, command: ExecuteTask, pid: int, start_date: datetime, log_path: Path
    ) -> TaskInstanceStarted:
        return TaskInstanceStarted(
            dag_id=command.dag_id,
            run_id=command.run_id,
            task_id=command.task_id,
            map_index=command.map_index,
            try_number=command.try_number,
            hostname=self._hostname,
            pid=pid,
            executor_id=self._executor_id,
            start_date=start_date,
            log_path=str(log_path),
        )


def _append_to_task_log(log_path: Path, at: datetime, message: str) -> None:
    """Failures the supervisor sees (timeouts, kills, crashes) belong in the log the user reads."""
    try:
        log_path.parent.mkdir(parents=True, exist_ok=True)
        with log_path.open("a") as fh:
            fh.write(f"[{at.isoformat()}] {{executor}} ERROR - {message}\n")
    except OSError as exc:
        logger.warning("cannot write to the task log %s: %s", log_path, exc.strerror)
