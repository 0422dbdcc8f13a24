"""Where a streams worker tells the others to send requests for the table keys it holds."""

from __future__ import annotations

import socket

import pytest

from couture_streams.app import advertised_host


@pytest.mark.parametrize("bind", ["0.0.0.0", "::", ""])
def test_a_worker_bound_to_every_interface_advertises_its_host_name(bind: str) -> None:
    assert advertised_host(bind) == socket.gethostname()


def test_a_worker_bound_to_one_address_advertises_that_address() -> None:
    assert advertised_host("10.1.2.3") == "10.1.2.3"
