"""Messages between the supervisor, the zygote and task processes, and their framing.

Supervisor → zygote: one :class:`ForkRequest` per SOCK_SEQPACKET packet, carrying the task's end of
a socket pair as ancillary data. Zygote → supervisor and task ↔ supervisor: length-prefixed JSON
frames on stream sockets.
"""

from __future__ import annotations

import struct
from typing import Any

import msgspec

from couture_common.events import ExecuteTask
from couture_executor.domain.tries import TryResult

HEADER = struct.Struct(">I")
MAX_FRAME = 64 * 1024 * 1024
#: A fork request is one SOCK_SEQPACKET packet; its socket buffers are sized for this.
MAX_REQUEST = 1024 * 1024


class TrySpec(msgspec.Struct, frozen=True, kw_only=True):
    """What a task process needs: the command, the DAG file to load and where its log goes."""

    command: ExecuteTask
    dag_file: str
    dags_folder: str
    log_path: str
    hostname: str


class ForkRequest(msgspec.Struct, frozen=True, tag="fork"):
    request_id: int
    spec: TrySpec


class Ready(msgspec.Struct, frozen=True, tag="ready"):
    pid: int


class Forked(msgspec.Struct, frozen=True, tag="forked"):
    request_id: int
    pid: int


class Exited(msgspec.Struct, frozen=True, tag="exited"):
    pid: int
    #: ``subprocess`` convention: the exit code, or minus the signal number.
    returncode: int


ZygoteMessage = Ready | Forked | Exited


class GetVariable(msgspec.Struct, frozen=True, tag="get_variable"):
    key: str


class SetVariable(msgspec.Struct, frozen=True, tag="set_variable"):
    key: str
    value: str
    description: str | None = None


class DeleteVariable(msgspec.Struct, frozen=True, tag="delete_variable"):
    key: str


class GetConnection(msgspec.Struct, frozen=True, tag="get_connection"):
    conn_id: str


class PushXCom(msgspec.Struct, frozen=True, tag="xcom_push"):
    key: str
    #: JSON text: XComs cross processes and the log as JSON only.
    value: str


class PullXCom(msgspec.Struct, frozen=True, tag="xcom_pull"):
    dag_id: str
    run_id: str
    task_ids: list[str] | None
    key: str
    include_prior_dates: bool = False


class TriggerDagRun(msgspec.Struct, frozen=True, tag="trigger_dag_run"):
    dag_id: str
    conf: dict[str, Any]
    run_id: str | None = None


class RecordRenderedFields(msgspec.Struct, frozen=True, tag="rendered_fields"):
    """The try's template fields as rendered, already masked and capped by the task process."""

    fields: dict[str, Any]


class ReportResult(msgspec.Struct, frozen=True, tag="result"):
    result: TryResult


TaskRequest = (
    GetVariable
    | SetVariable
    | DeleteVariable
    | GetConnection
    | PushXCom
    | PullXCom
    | TriggerDagRun
    | RecordRenderedFields
    | ReportResult
)


class ConnectionFields(msgspec.Struct, frozen=True, kw_only=True):
    conn_id: str
    conn_type: str
    host: str | None = None
    schema: str | None = None
    login: str | None = None
    password: str | None = None
    port: int | None = None
    extra: str | None = None


class Reply(msgspec.Struct, frozen=True, kw_only=True):
    ok: bool
    value: Any = None
    error: str | None = None


_encoder = msgspec.json.Encoder()
fork_request_decoder = msgspec.json.Decoder(ForkRequest)
zygote_message_decoder = msgspec.json.Decoder(ZygoteMessage)
task_request_decoder = msgspec.json.Decoder(TaskRequest)
reply_decoder = msgspec.json.Decoder(Reply)


def encode(message: msgspec.Struct) -> bytes:
    return _encoder.encode(message)


def frame(message: msgspec.Struct) -> bytes:
    body = _encoder.encode(message)
    return HEADER.pack(len(body)) + body


def frame_length(header: bytes) -> int:
    (length,) = HEADER.unpack(header)
    if length > MAX_FRAME:
        raise ValueError(f"frame of {length} bytes exceeds the {MAX_FRAME}-byte limit")
    return int(length)
