"""Fixtures for tests that need a service started by ``deploy/local/services up``.

A test that needs a service reads its address from the environment. Without it the test fails in
CI (``CI`` is set), so a CI run that forgot to start the services cannot pass by skipping them;
on a developer's machine it is skipped with the command that starts them.
"""

from __future__ import annotations

import os

import pytest

_START = 'eval "$(deploy/local/services up)"'


def service_address(variable: str) -> str:
    """The address in ``variable``; fails in CI and skips elsewhere when it is not set."""
    value = os.environ.get(variable, "")
    if value:
        return value
    message = f"{variable} is not set; start the services with: {_START}"
    if os.environ.get("CI"):
        pytest.fail(message, pytrace=False)
    pytest.skip(message)


@pytest.fixture(scope="session")
def kafka_bootstrap() -> str:
    """``host:port`` of the Kafka broker (COUTURE_KAFKA_BOOTSTRAP)."""
    return service_address("COUTURE_KAFKA_BOOTSTRAP")


@pytest.fixture(scope="session")
def postgres_url() -> str:
    """SQLAlchemy URL of the PostgreSQL database (COUTURE_DATABASE_URL_POSTGRES)."""
    return service_address("COUTURE_DATABASE_URL_POSTGRES")
