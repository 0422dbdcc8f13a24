"""The supervisor's handle on the zygote: start it, ask it to fork a task process, learn how each ended."""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import logging
import socket
import sys
from dataclasses import dataclass

from couture_executor.adapters.zygote.protocol import (
    HEADER,
    MAX_REQUEST,
    Exited,
    Forked,
    ForkRequest,
    Ready,
    TrySpec,
    ZygoteMessage,
    encode,
    frame_length,
    zygote_message_decoder,
)

logger = logging.getLogger(__name__)


class ZygoteError(RuntimeError):
    pass


@dataclass(frozen=True)
class TaskProcess:
    pid: int
    #: Resolves to the process's returncode (minus the signal number when killed).
    exited: asyncio.Future[int]


class Zygote:
    def __init__(self, *, parse_timeout: float, start_timeout: float = 60.0) -> None:
        self._parse_timeout = parse_timeout
        self._start_timeout = start_timeout
        self._requests: socket.socket | None = None
        self._responses: asyncio.StreamWriter | None = None
        self._process: asyncio.subprocess.Process | None = None
        self._reader_task: asyncio.Task[None] | None = None
        self._request_ids = itertools.count(1)
        self._forks: dict[int, asyncio.Future[int]] = {}
        self._exits: dict[int, asyncio.Future[int]] = {}
        self._send_lock = asyncio.Lock()
        self._restart_lock = asyncio.Lock()

    async def start(self) -> None:
        requests, zygote_requests = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        responses, zygote_responses = socket.socketpair(socket.AF_UNIX, socket.SOCK_STREAM)
        for sock in (requests, zygote_requests):
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, 2 * MAX_REQUEST)
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 2 * MAX_REQUEST)
        try:
            self._process = await asyncio.create_subprocess_exec(
                sys.executable,
                "-m",
                "couture_executor.adapters.zygote",
                "--requests-fd",
                str(zygote_requests.fileno()),
                "--responses-fd",
                str(zygote_responses.fileno()),
                "--parse-timeout",
                str(self._parse_timeout),
                pass_fds=(zygote_requests.fileno(), zygote_responses.fileno()),
                stdin=asyncio.subprocess.DEVNULL,
                start_new_session=True,
            )
        finally:
            zygote_requests.close()
            zygote_responses.close()
        requests.setblocking(False)
        self._requests = requests
        # The writer is kept: when it is collected it closes the shared transport.
        reader, self._responses = await asyncio.open_unix_connection(sock=responses)
        try:
            async with asyncio.timeout(self._start_timeout):
                first = await _read_message(reader)
        except (TimeoutError, asyncio.IncompleteReadError):
            await self.close()
            raise ZygoteError("the executor's fork server did not start (see its output above)") from None
        if not isinstance(first, Ready):
            raise ZygoteError(f"the fork server sent {first!r} before it was ready")
        self._reader_task = asyncio.create_task(self._read(reader), name="zygote-reader")

    async def fork(self, spec: TrySpec, task_socket: socket.socket) -> TaskProcess:
        """Start a task process for ``spec``; it owns ``task_socket`` from now on."""
        await self._restart_if_lost()
        if self._requests is None:
            raise ZygoteError("the executor's fork server is not running")
        request_id = next(self._request_ids)
        forked = self._forks[request_id] = asyncio.get_running_loop().create_future()
        message = encode(ForkRequest(request_id, spec))
        if len(message) > MAX_REQUEST:
            del self._forks[request_id]
            raise ZygoteError(
                f"the task's command is {len(message)} bytes, over the {MAX_REQUEST}-byte limit"
            )
        try:
            async with self._send_lock:
                await self._send(message, task_socket.fileno())
            pid = await forked
        finally:
            self._forks.pop(request_id, None)
        return TaskProcess(pid, self._exits[pid])

    async def _restart_if_lost(self) -> None:
        async with self._restart_lock:
            if self._reader_task is not None and self._reader_task.done():
                logger.warning("the executor's fork server stopped unexpectedly; starting a new one")
                await self.close()
                await self.start()

    async def close(self) -> None:
        if self._requests is not None:
            self._requests.close()
            self._requests = None
        if self._process is not None:
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(10):
                    await self._process.wait()
            if self._process.returncode is None:
                self._process.kill()
                await self._process.wait()
        if self._reader_task is not None:
            self._reader_task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._reader_task
            self._reader_task = None
        if self._responses is not None:
            self._responses.close()
            self._responses = None
        self._process = None

    async def _send(self, message: bytes, fd: int) -> None:
        assert self._requests is not None
        loop = asyncio.get_running_loop()
        while True:
            try:
                socket.send_fds(self._requests, [message], [fd])
                return
            except BlockingIOError:
                writable = loop.create_future()
                loop.add_writer(self._requests, writable.set_result, None)
                try:
                    await writable
                finally:
                    loop.remove_writer(self._requests)

    async def _read(self, reader: asyncio.StreamReader) -> None:
        loop = asyncio.get_running_loop()
        try:
            while True:
                message = await _read_message(reader)
                if isinstance(message, Forked):
                    self._exits[message.pid] = loop.create_future()
                    waiter = self._forks.get(message.request_id)
                    if waiter is not None and not waiter.done():
                        waiter.set_result(message.pid)
                elif isinstance(message, Exited):
                    exited = self._exits.pop(message.pid, None)
                    if exited is not None and not exited.done():
                        exited.set_result(message.returncode)
        except asyncio.IncompleteReadError:
            lost = ZygoteError(
                "the executor's fork server stopped; the task process's exit status is unknown"
            )
            for future in [*self._forks.values(), *self._exits.values()]:
                if not future.done():
                    future.set_exception(lost)
            self._exits.clear()


async def _read_message(reader: asyncio.StreamReader) -> ZygoteMessage:
    header = await reader.readexactly(HEADER.size)
    message: ZygoteMessage = zygote_message_decoder.decode(await reader.readexactly(frame_length(header)))
    return message
