"""``couture rotate-fernet-key``: re-encrypt every secret with the newest key.

Put the new key first in COUTURE_FERNET_KEY (``new,old``), run this, then drop the old key. The
re-encrypted values are appended as new events; folds keep the newest value per key.
"""

from __future__ import annotations

import argparse

import msgspec

from couture_cli.logview import append, load_config
from couture_common.events import Event
from couture_common.settings import Settings


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser(
        "rotate-fernet-key", help="Re-encrypt variables and connection secrets with the newest key"
    )
    p.set_defaults(handler=rotate)


async def rotate(args: argparse.Namespace, settings: Settings) -> int:
    box = settings.secret_box
    config = await load_config(settings)
    events: list[Event] = []
    for key in config.variable_keys():
        variable = config.variable(key)
        assert variable is not None
        events.append(msgspec.structs.replace(variable, value=box.rotate(variable.value)))
    for entry in config.connection_entries():
        events.append(
            msgspec.structs.replace(
                entry,
                password=box.rotate(entry.password) if entry.password else None,
                extra=box.rotate(entry.extra) if entry.extra else None,
            )
        )
    await append(settings, events)
    print(f"Re-encrypted {len(events)} secrets with the newest Fernet key")
    return 0
