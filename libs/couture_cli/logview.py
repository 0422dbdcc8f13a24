"""The log from the command line: fold topics from offset 0 into a view, append events."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Sequence
from contextlib import asynccontextmanager

from couture_auth.domain.users import UserDirectory, apply
from couture_common.config_view import ConfigView
from couture_common.eventlog.factory import open_event_log
from couture_common.eventlog.port import EventLog, Record
from couture_common.events import Event, envelope
from couture_common.settings import Settings
from couture_common.topics import AUTH, CONFIG

ACTOR = "cli"


@asynccontextmanager
async def opened_log(settings: Settings) -> AsyncIterator[EventLog]:
    log = open_event_log(settings.event_log_url, sync=settings.log_sync)
    await log.start()
    try:
        yield log
    finally:
        await log.close()


async def fold(log: EventLog, topics: Sequence[str], apply: Callable[[Record], None]) -> None:
    """Apply every record now in ``topics`` (replay from offset 0, no consumer group)."""
    consumer = log.consumer(topics)
    try:
        ends = {topic: await log.end_offsets(topic) for topic in topics}
        remaining = sum(end for per_topic in ends.values() for end in per_topic.values())
        while remaining > 0:
            records = await consumer.poll(5000, timeout=1.0)
            if not records:
                break
            for record in records:
                apply(record)
            remaining -= len(records)
    finally:
        await consumer.close()


async def load_config(settings: Settings) -> ConfigView:
    view = ConfigView()

    def apply(record: Record) -> None:
        view.apply(record.envelope.payload)

    async with opened_log(settings) as log:
        await fold(log, [CONFIG], apply)
    return view


async def auth_directory(log: EventLog) -> UserDirectory:
    """Users, custom roles and the stored LDAP configuration, as of everything in the ``auth`` topic."""
    directory = UserDirectory()

    def collect(record: Record) -> None:
        nonlocal directory
        directory = apply(directory, record.envelope.payload)

    await fold(log, [AUTH], collect)
    return directory


async def append(settings: Settings, events: Sequence[Event]) -> None:
    """One atomic append: all of ``events`` land, or none."""
    async with opened_log(settings) as log:
        await log.append([envelope(event, actor=ACTOR) for event in events])
