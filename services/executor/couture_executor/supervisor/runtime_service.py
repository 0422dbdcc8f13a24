"""Answers a task process's Variable, Connection, XCom and trigger calls.

Secrets are decrypted here, only when a task asks. XCom pushes are held per try and appended with
the try's result in one batch, so a try's XComs and its outcome enter the log together.
"""

from __future__ import annotations

import asyncio
import logging
import random
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import msgspec

from couture_common.config_view import ConfigView
from couture_common.eventlog import EventLog
from couture_common.events import (
    ConnectionSet,
    DagRunRequested,
    ExecuteTask,
    TaskInstanceRendered,
    VariableDeleted,
    VariableSet,
    XComPushed,
    envelope,
)
from couture_common.secrets import SecretBox
from couture_common.topics import CONFIG
from couture_executor.adapters.zygote.protocol import (
    ConnectionFields,
    DeleteVariable,
    GetConnection,
    GetVariable,
    PullXCom,
    PushXCom,
    RecordRenderedFields,
    Reply,
    ReportResult,
    SetVariable,
    TaskRequest,
    TriggerDagRun,
)
from couture_executor.domain.run_view import RunView
from couture_executor.domain.tries import TryResult
from couture_executor.supervisor.offset_gate import OffsetGate

logger = logging.getLogger(__name__)

#: How long a variable or connection lookup waits for the config view to catch up with the log.
CONFIG_CATCH_UP_TIMEOUT = 30.0


@dataclass
class TryChannel:
    """What one try has said so far."""

    command: ExecuteTask
    pushes: list[XComPushed] = field(default_factory=list)
    result: TryResult | None = None

    def try_fields(self) -> dict[str, Any]:
        """The fields that name this try in every event about it."""
        c = self.command
        return {
            "dag_id": c.dag_id,
            "run_id": c.run_id,
            "task_id": c.task_id,
            "map_index": c.map_index,
            "try_number": c.try_number,
        }

    @property
    def actor(self) -> str:
        c = self.command
        return f"task:{c.dag_id}/{c.run_id}/{c.task_id}"


class RuntimeService:
    def __init__(
        self,
        *,
        log: EventLog,
        run_view: RunView,
        config_view: ConfigView,
        config_gate: OffsetGate,
        secret_box: Callable[[], SecretBox],
        now: Callable[[], datetime],
        choose: Callable[[Sequence[ConnectionSet]], ConnectionSet] = random.choice,
    ) -> None:
        self._log = log
        self._run_view = run_view
        self._config_view = config_view
        self._config_gate = config_gate
        self._secret_box = secret_box
        self._now = now
        self._choose = choose

    async def answer(self, channel: TryChannel, request: TaskRequest) -> Reply:
        try:
            return Reply(ok=True, value=await self._answer(channel, request))
        except (LookupError, ValueError, TimeoutError) as exc:
            return Reply(ok=False, error=str(exc))
        except Exception as exc:
            # The task gets an error it can handle; the cause (a log outage...) is the operator's to see.
            logger.exception("cannot answer %s for %s", type(request).__name__, channel.actor)
            return Reply(ok=False, error=f"the executor could not serve this request ({type(exc).__name__})")

    async def _answer(self, channel: TryChannel, request: TaskRequest) -> object:
        match request:
            case GetVariable(key=key):
                await self._catch_up_config()
                token = self._config_view.variable_token(key)
                return None if token is None else self._secret_box().decrypt(token)
            case GetConnection(conn_id=conn_id):
                await self._catch_up_config()
                entry = self._config_view.connection(conn_id, self._choose)
                return None if entry is None else self._clear_connection(entry)
            case SetVariable(key=key, value=value, description=description):
                token = self._secret_box().encrypt(value)
                await self._append_config(channel, VariableSet(key=key, value=token, description=description))
                return None
            case DeleteVariable(key=key):
                await self._append_config(channel, VariableDeleted(key=key))
                return None
            case PushXCom(key=key, value=value):
                self._push(channel, key, value)
                return None
            case PullXCom():
                return self._run_view.pull(
                    dag_id=request.dag_id,
                    run_id=request.run_id,
                    task_ids=request.task_ids,
                    key=request.key,
                    include_prior_dates=request.include_prior_dates,
                )
            case TriggerDagRun(dag_id=dag_id, conf=conf, run_id=run_id):
                return await self._trigger(channel, dag_id, conf, run_id)
            case RecordRenderedFields(fields=fields):
                await self._record_rendered(channel, fields)
                return None
            case ReportResult(result=result):
                channel.result = result
                return None

    def _push(self, channel: TryChannel, key: str, value: str) -> None:
        if not key:
            raise ValueError("xcom_push: key must not be empty")
        try:
            msgspec.json.decode(value)
        except msgspec.DecodeError:
            raise ValueError(f"xcom_push: the value for key {key!r} is not JSON") from None
        event = XComPushed(**channel.try_fields(), key=key, value=value)
        channel.pushes.append(event)
        self._run_view.push(event)

    async def _trigger(
        self, channel: TryChannel, dag_id: str, conf: dict[str, object], run_id: str | None
    ) -> str:
        if not dag_id:
            raise ValueError("trigger_dag_run: dag_id must not be empty")
        logical_date = self._now()
        run_id = run_id or f"manual__{logical_date.isoformat()}"
        c = channel.command
        request = DagRunRequested(
            dag_id=dag_id,
            run_id=run_id,
            run_type="manual",
            logical_date=logical_date,
            conf=dict(conf),
            triggered_by_task=f"{c.dag_id}/{c.run_id}/{c.task_id}",
        )
        await self._log.append([envelope(request, actor=channel.actor)])
        return run_id

    async def _record_rendered(self, channel: TryChannel, fields: dict[str, object]) -> None:
        # Appended at once, not with the result: a long try shows what it runs while it runs.
        rendered = TaskInstanceRendered(**channel.try_fields(), rendered_fields=dict(fields))
        await self._log.append([envelope(rendered, actor=channel.actor)])

    async def _append_config(self, channel: TryChannel, event: VariableSet | VariableDeleted) -> None:
        await self._log.append([envelope(event, actor=channel.actor)])

    async def _catch_up_config(self) -> None:
        ends = await self._log.end_offsets(CONFIG)
        try:
            async with asyncio.timeout(CONFIG_CATCH_UP_TIMEOUT):
                await self._config_gate.wait_ends(ends)
        except TimeoutError:
            raise TimeoutError(
                f"the executor's view of variables and connections is more than {CONFIG_CATCH_UP_TIMEOUT} s "
                "behind the log"
            ) from None

    def _clear_connection(self, entry: ConnectionSet) -> ConnectionFields:
        box = self._secret_box()
        return ConnectionFields(
            conn_id=entry.conn_id,
            conn_type=entry.conn_type,
            host=entry.host,
            schema=entry.schema,
            login=entry.login,
            password=None if entry.password is None else box.decrypt(entry.password),
            port=entry.port,
            extra=None if entry.extra is None else box.decrypt(entry.extra),
        )
