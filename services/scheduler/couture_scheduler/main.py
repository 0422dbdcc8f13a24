"""``couture scheduler``: the scheduler as a process of its own (distributed deployment).

Several may run: the consumer group ``scheduler`` splits the DAGs between them (see
:mod:`couture_scheduler.service`). The process serves only ``/health`` and ``/ready``.
"""

from __future__ import annotations

from couture_common.eventlog.port import EventLog
from couture_common.health import health_app, serve
from couture_common.settings import Settings
from couture_scheduler.domain import SchedulerPolicy
from couture_scheduler.service import SchedulerService


async def run_scheduler(settings: Settings, log: EventLog, *, host: str, port: int) -> None:
    """Until SIGTERM: then the decision being appended is completed and the process ends."""
    scheduler = SchedulerService(log, policy=SchedulerPolicy(zombie_threshold=settings.zombie_threshold))

    async def start() -> None:
        await log.start()
        await scheduler.start()
        await scheduler.wait_caught_up()

    async def stop() -> None:
        await scheduler.stop()
        await log.close()

    app = health_app(
        "scheduler",
        lambda: scheduler.ready,
        lambda: {"run_partitions": sorted(scheduler.owned_partitions)},
    )
    await serve(app, host=host, port=port, start=start, stop=stop)
