"""``conf`` in the template context: read-only settings from ``AIRFLOW__SECTION__KEY`` variables,
the way Airflow lets environment variables override its configuration file."""

from __future__ import annotations

import os

_TRUE = {"true", "t", "1", "yes", "y", "on"}
_FALSE = {"false", "f", "0", "no", "n", "off"}


class EnvironmentConfig:
    def get(self, section: str, key: str, fallback: str | None = None) -> str | None:
        return os.environ.get(f"AIRFLOW__{section.upper()}__{key.upper()}", fallback)

    def getboolean(self, section: str, key: str, fallback: bool = False) -> bool:
        value = self.get(section, key)
        if value is None:
            return fallback
        lowered = value.strip().lower()
        if lowered in _TRUE:
            return True
        if lowered in _FALSE:
            return False
        raise ValueError(f"AIRFLOW__{section.upper()}__{key.upper()} must be a boolean, got {value!r}")

    def getint(self, section: str, key: str, fallback: int = 0) -> int:
        value = self.get(section, key)
        return fallback if value is None else int(value)

    def has_option(self, section: str, key: str) -> bool:
        return self.get(section, key) is not None


conf = EnvironmentConfig()
