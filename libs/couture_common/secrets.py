"""Fernet encryption of secrets before they enter the log, and masking for display."""

from __future__ import annotations

import os
import re
from collections.abc import Iterable
from pathlib import Path

from cryptography.fernet import Fernet, InvalidToken, MultiFernet

SENSITIVE_WORDS: tuple[str, ...] = (
    "password",
    "secret",
    "passwd",
    "authorization",
    "api_key",
    "apikey",
    "access_token",
)
MASK = "***"


def is_sensitive_key(key: str, extra_words: Iterable[str] = ()) -> bool:
    lowered = key.lower()
    return any(word in lowered for word in (*SENSITIVE_WORDS, *extra_words))


class SecretBox:
    """Encrypts with the first key, decrypts with any (so keys can be rotated)."""

    def __init__(self, keys: Iterable[str]) -> None:
        key_list = [k.strip() for k in keys if k.strip()]
        if not key_list:
            raise ValueError("COUTURE_FERNET_KEY: at least one Fernet key is required")
        try:
            self._fernet = MultiFernet([Fernet(k.encode()) for k in key_list])
        except ValueError as exc:
            raise ValueError(f"COUTURE_FERNET_KEY: not a valid Fernet key ({exc})") from None

    def encrypt(self, plaintext: str) -> str:
        return self._fernet.encrypt(plaintext.encode()).decode()

    def decrypt(self, token: str) -> str:
        try:
            return self._fernet.decrypt(token.encode()).decode()
        except InvalidToken:
            raise ValueError("secret cannot be decrypted with the configured Fernet keys") from None

    def rotate(self, token: str) -> str:
        return self._fernet.rotate(token.encode()).decode()


def load_or_create_keys(key_env: str | None, key_file: Path) -> list[str]:
    """Keys from ``COUTURE_FERNET_KEY`` (comma-separated, newest first), else a key file created
    once with owner-only permissions."""
    if key_env:
        return [k for k in re.split(r"[,\s]+", key_env) if k]
    if key_file.exists():
        return [k for k in key_file.read_text().split() if k]
    key_file.parent.mkdir(parents=True, exist_ok=True)
    key = Fernet.generate_key().decode()
    fd = os.open(key_file, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as fh:
        fh.write(key + "\n")
    return [key]
