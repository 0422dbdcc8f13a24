"""The TaskRuntime a task process installs: every call is a request to its supervisor over a socket."""

from __future__ import annotations

import json
import socket
import threading
from dataclasses import dataclass
from typing import Any

from couture_executor.adapters.zygote.protocol import (
    HEADER,
    ConnectionFields,
    DeleteVariable,
    GetConnection,
    GetVariable,
    PullXCom,
    PushXCom,
    RecordRenderedFields,
    ReportResult,
    SetVariable,
    TaskRequest,
    TriggerDagRun,
    frame,
    frame_length,
    reply_decoder,
)
from couture_executor.domain.tries import TryResult


class SupervisorError(RuntimeError):
    """The supervisor refused a request; the message says why."""


@dataclass
class TaskConnection:
    conn_id: str
    conn_type: str
    host: str | None
    schema: str | None
    login: str | None
    password: str | None
    port: int | None
    extra: str | None

    def __repr__(self) -> str:
        return f"TaskConnection(conn_id={self.conn_id!r}, conn_type={self.conn_type!r}, host={self.host!r})"


class SocketTaskRuntime:
    """Blocking request/reply over the task's socket; a lock keeps threads of the task from interleaving."""

    def __init__(self, sock: socket.socket) -> None:
        self._sock = sock
        self._lock = threading.Lock()

    def get_variable(self, key: str) -> str | None:
        value = self._call(GetVariable(key))
        return None if value is None else str(value)

    def set_variable(self, key: str, value: str, description: str | None = None) -> None:
        self._call(SetVariable(key, value, description))

    def delete_variable(self, key: str) -> None:
        self._call(DeleteVariable(key))

    def get_connection(self, conn_id: str) -> TaskConnection | None:
        value = self._call(GetConnection(conn_id))
        if value is None:
            return None
        fields = ConnectionFields(**value)
        return TaskConnection(
            conn_id=fields.conn_id,
            conn_type=fields.conn_type,
            host=fields.host,
            schema=fields.schema,
            login=fields.login,
            password=fields.password,
            port=fields.port,
            extra=fields.extra,
        )

    def xcom_push(self, key: str, value: Any) -> None:
        try:
            text = json.dumps(value)
        except (TypeError, ValueError) as exc:
            raise TypeError(f"XCom value for key {key!r} must be JSON-serialisable: {exc}") from None
        self._call(PushXCom(key, text))

    def xcom_pull(
        self,
        *,
        dag_id: str,
        run_id: str,
        task_ids: list[str] | None,
        key: str,
        include_prior_dates: bool = False,
    ) -> list[Any]:
        texts = self._call(PullXCom(dag_id, run_id, task_ids, key, include_prior_dates))
        return [None if text is None else json.loads(text) for text in texts]

    def trigger_dag_run(self, dag_id: str, conf: dict[str, Any], run_id: str | None = None) -> str:
        return str(self._call(TriggerDagRun(dag_id, conf, run_id)))

    def record_rendered_fields(self, fields: dict[str, Any]) -> None:
        self._call(RecordRenderedFields(fields))

    def report(self, result: TryResult) -> None:
        self._call(ReportResult(result))

    def _call(self, request: TaskRequest) -> Any:
        with self._lock:
            self._sock.sendall(frame(request))
            header = self._receive(HEADER.size)
            reply = reply_decoder.decode(self._receive(frame_length(header)))
        if not reply.ok:
            raise SupervisorError(reply.error or "the supervisor refused the request")
        return reply.value

    def _receive(self, size: int) -> bytes:
        chunks = bytearray()
        while len(chunks) < size:
            chunk = self._sock.recv(size - len(chunks))
            if not chunk:
                raise SupervisorError("the executor closed the connection to this task process")
            chunks += chunk
        return bytes(chunks)
