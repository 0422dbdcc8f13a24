"""Redact secrets from what a task prints, as Airflow's secrets masker does.

A value is registered when a task reads it: a variable whose key looks secret (password, secret,
api_key, ... — the same words the API masks), a connection's password. The task process wraps its
stdout and stderr in :class:`MaskingStream`, so neither ``print``, logging nor a BashOperator's
echoed output lands in the try's log in clear. A secret split across two writes is not caught;
every line the SDK writes goes out in one write.
"""

from __future__ import annotations

import io
import json
import re
from typing import Any, TextIO

from couture_common.secrets import MASK, is_sensitive_key

#: Shorter values would mask ordinary words and numbers everywhere in the log.
MIN_SECRET_LENGTH = 4


class SecretsMasker:
    def __init__(self) -> None:
        self._secrets: set[str] = set()
        self._pattern: re.Pattern[str] | None = None

    def add(self, secret: str | None) -> None:
        if secret is None or len(secret) < MIN_SECRET_LENGTH or secret in self._secrets:
            return
        self._secrets.add(secret)
        # Longest first, so a secret containing another is masked whole.
        ordered = sorted(self._secrets, key=len, reverse=True)
        self._pattern = re.compile("|".join(re.escape(s) for s in ordered))

    def add_variable(self, key: str, value: Any) -> None:
        """A secret-looking key hides its value, and every string inside a JSON value."""
        if not is_sensitive_key(key):
            return
        for text in _strings(value):
            self.add(text)

    def redact(self, text: str) -> str:
        return text if self._pattern is None else self._pattern.sub(MASK, text)


def _strings(value: Any) -> list[str]:
    if isinstance(value, str):
        try:
            parsed = json.loads(value)
        except ValueError:
            return [value]
        return [value, *(_strings(parsed) if not isinstance(parsed, str) else [])]
    if isinstance(value, dict):
        return [s for v in value.values() for s in _strings(v)]
    if isinstance(value, list | tuple):
        return [s for v in value for s in _strings(v)]
    return []


MASKER = SecretsMasker()


class MaskingStream(io.TextIOBase):
    """A text stream that redacts registered secrets before writing to ``target``."""

    def __init__(self, target: TextIO, masker: SecretsMasker = MASKER) -> None:
        self._target = target
        self._masker = masker

    def write(self, text: str) -> int:
        self._target.write(self._masker.redact(text))
        return len(text)

    def flush(self) -> None:
        self._target.flush()

    def fileno(self) -> int:
        return self._target.fileno()

    def isatty(self) -> bool:
        return False

    def writable(self) -> bool:
        return True
