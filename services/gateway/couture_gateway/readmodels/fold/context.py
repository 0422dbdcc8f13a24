"""What a fold knows about the event being applied besides its payload."""

from __future__ import annotations

from datetime import datetime
from typing import NamedTuple


class Context(NamedTuple):
    #: When the event was produced: the only clock a fold reads.
    time: datetime
    #: ``user:<name>`` or ``service:<name>``.
    actor: str
    #: The envelope id.
    event_id: str
    #: ``positions.position_id`` of the event: a stable id for rows the event creates.
    position_id: int

    @property
    def user(self) -> str | None:
        """The user name when a user caused the event."""
        return self.actor.removeprefix("user:") if self.actor.startswith("user:") else None
