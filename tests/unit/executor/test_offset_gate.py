"""A try waits until the executor's view of the run topic has read the offset its command names."""

from __future__ import annotations

import asyncio

from couture_executor.supervisor.offset_gate import OffsetGate


async def test_a_negative_offset_needs_no_wait() -> None:
    gate = OffsetGate()
    await asyncio.wait_for(gate.wait(2, -1), timeout=1)


async def test_waits_until_the_offset_itself_has_been_read() -> None:
    gate = OffsetGate()
    waiter = asyncio.create_task(gate.wait(2, 4))
    await gate.advance({2: 4})
    await asyncio.sleep(0)
    assert not waiter.done()
    await gate.advance({2: 5})
    await asyncio.wait_for(waiter, timeout=1)


async def test_other_partitions_do_not_open_the_gate() -> None:
    gate = OffsetGate()
    waiter = asyncio.create_task(gate.wait(1, 0))
    await gate.advance({0: 100})
    await asyncio.sleep(0)
    assert not waiter.done()
    waiter.cancel()


async def test_positions_never_move_back() -> None:
    gate = OffsetGate()
    await gate.advance({0: 10})
    await gate.advance({0: 3})
    assert gate.position(0) == 10


async def test_end_offsets_are_reached_once_every_partition_is_read_to_its_end() -> None:
    gate = OffsetGate()
    assert gate.reached_ends({0: 0})
    await gate.advance({0: 2})
    assert not gate.reached_ends({0: 2, 1: 1})
    await gate.advance({1: 1})
    await asyncio.wait_for(gate.wait_ends({0: 2, 1: 1}), timeout=1)
