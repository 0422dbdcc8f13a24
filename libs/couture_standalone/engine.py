"""Composition root of the standalone deployment.

The services keep their own packages and talk only through the event log (and, for the gateway,
the read models), exactly as they do when deployed apart; this module only wires them.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import socket
from typing import Self

from sqlalchemy.ext.asyncio import AsyncEngine

from couture_common.eventlog.factory import open_event_log
from couture_common.eventlog.port import EventLog
from couture_common.settings import Settings
from couture_executor.adapters.dag_files import BlobDagFileStore
from couture_executor.app import ExecutorService
from couture_gateway.readmodels.migrations import open_readmodels
from couture_gateway.readmodels.projector import Projector
from couture_registry.service import DagFolderRegistry
from couture_scheduler.domain import SchedulerPolicy
from couture_scheduler.service import SchedulerService

logger = logging.getLogger(__name__)


class Engine:
    """Registry, scheduler, executor and projector on one log; the gateway is started beside it."""

    def __init__(self, settings: Settings, *, watch_dags: bool = True, project: bool = True) -> None:
        self.settings = settings
        self._project = project
        self.log: EventLog = open_event_log(settings.event_log_url, sync=settings.log_sync)
        self.registry = DagFolderRegistry.from_settings(settings, self.log, watch=watch_dags)
        self.scheduler = SchedulerService(
            self.log, policy=SchedulerPolicy(zombie_threshold=settings.zombie_threshold)
        )
        self.executor = ExecutorService(
            self.log,
            settings,
            dag_file_store=BlobDagFileStore(settings.blobs_path),
            executor_id=f"{socket.gethostname()}-standalone",
        )
        self.readmodels: AsyncEngine | None = None
        self.projector: Projector | None = None
        self._projecting: asyncio.Task[None] | None = None

    async def start(self) -> None:
        for folder in (self.settings.dags_path, self.settings.logs_path, self.settings.blobs_path):
            folder.mkdir(parents=True, exist_ok=True)
        await self.log.start()
        if self._project:
            self.readmodels = await open_readmodels(self.settings.database)
            self.projector = Projector(self.readmodels, self.log)
            await self.projector.start()
            self._projecting = asyncio.create_task(self.projector.run(), name="projector")
        await self.registry.start()
        await self.scheduler.start()
        await self.executor.start()

    async def stop(self) -> None:
        await self.registry.stop()
        await self.executor.stop()
        await self.scheduler.stop()
        if self._projecting is not None:
            self._projecting.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._projecting
        if self.projector is not None:
            await self.projector.close()
        if self.readmodels is not None:
            await self.readmodels.dispose()
        await self.log.close()

    async def __aenter__(self) -> Self:
        await self.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()
