"""Wait until a consumer's view of a topic has read far enough.

The scheduler stamps each ExecuteTask with the ``run`` offset it had seen; a try starts only once
this executor's view has read that offset, so ``xcom_pull`` sees every upstream XCom. The same gate
gives tasks read-your-writes on variables: a lookup waits until the view has read the topic's end.
"""

from __future__ import annotations

import asyncio


class OffsetGate:
    def __init__(self) -> None:
        self._positions: dict[int, int] = {}
        self._changed = asyncio.Condition()

    def position(self, partition: int) -> int:
        """The next offset the view will read from ``partition`` (0 before anything was read)."""
        return self._positions.get(partition, 0)

    def reached(self, partition: int, offset: int) -> bool:
        """Whether the event at ``offset`` has been read (always true for a negative offset)."""
        return self.position(partition) > offset

    def reached_ends(self, ends: dict[int, int]) -> bool:
        """Whether every partition has been read up to its end offset (the next offset to be written)."""
        return all(self.reached(partition, end - 1) for partition, end in ends.items())

    async def advance(self, positions: dict[int, int]) -> None:
        """The view has read up to (excluding) these positions."""
        moved = False
        for partition, position in positions.items():
            if position > self._positions.get(partition, 0):
                self._positions[partition] = position
                moved = True
        if moved:
            async with self._changed:
                self._changed.notify_all()

    async def wait(self, partition: int, offset: int) -> None:
        """Return once the event at ``offset`` of ``partition`` has been read."""
        await self.wait_ends({partition: offset + 1})

    async def wait_ends(self, ends: dict[int, int]) -> None:
        """Return once every partition has been read up to its given end offset."""
        if self.reached_ends(ends):
            return
        async with self._changed:
            await self._changed.wait_for(lambda: self.reached_ends(ends))
