"""``couture executor``: an executor as a process of its own (distributed deployment).

Executors share the ``task-queue`` partitions through the consumer group ``executor``; run as many
as the work needs. With a registry URL the DAG files come from the registry over HTTP (no shared
disk); without one, from the local blob folder the registry writes (one machine).
"""

from __future__ import annotations

import os
import socket

from couture_common.eventlog.port import EventLog
from couture_common.health import Readiness, health_app, serve
from couture_common.settings import Settings
from couture_executor.adapters.dag_files import BlobDagFileStore, DagFileStore
from couture_executor.adapters.registry_client import RegistryDagFileStore
from couture_executor.app import ExecutorService


def dag_file_store(settings: Settings, registry_url: str | None, service_token: str | None) -> DagFileStore:
    if registry_url is None:
        return BlobDagFileStore(settings.blobs_path)
    if not service_token:
        raise ValueError("COUTURE_SERVICE_TOKEN must be set to fetch DAG files from COUTURE_REGISTRY_URL")
    return RegistryDagFileStore(registry_url, service_token, settings.home / "cache" / "dags")


async def run_executor(
    settings: Settings,
    log: EventLog,
    *,
    host: str,
    port: int,
    dag_files: DagFileStore,
    stop_grace: float,
) -> None:
    """Until SIGTERM: then no new work is taken, running tries get ``stop_grace`` seconds to finish,
    and the rest are killed and reported so the scheduler retries them; commands not started are
    left to the group."""
    executor_id = f"{socket.gethostname()}-{os.getpid()}"
    executor = ExecutorService(
        log, settings, dag_file_store=dag_files, executor_id=executor_id, stop_grace=stop_grace
    )
    ready = Readiness()

    async def start() -> None:
        for folder in (settings.logs_path, settings.home):
            folder.mkdir(parents=True, exist_ok=True)
        await log.start()
        await executor.start()
        ready.set(True)

    async def stop() -> None:
        ready.set(False)
        await executor.stop()
        if isinstance(dag_files, RegistryDagFileStore):
            dag_files.close()
        await log.close()

    app = health_app("executor", ready, lambda: {"task_queue_partitions": sorted(executor.queue_partitions)})
    await serve(app, host=host, port=port, start=start, stop=stop)
