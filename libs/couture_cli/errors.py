"""Errors the CLI reports as one clear line and a non-zero exit status."""

from __future__ import annotations


class CliError(Exception):
    """A user-facing failure; the message is printed as ``couture: error: <message>``."""

    def __init__(self, message: str, *, exit_code: int = 1) -> None:
        super().__init__(message)
        self.exit_code = exit_code
