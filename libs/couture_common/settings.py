"""Configuration: ``COUTURE_*`` environment variables, and optionally a TOML file named by
``COUTURE_CONFIG_FILE`` (environment variables win over the file).

Every setting is documented in docs/configuration.md; this module is the one place they are read.
"""

from __future__ import annotations

import os
from functools import cached_property
from pathlib import Path
from typing import Literal

from pydantic import Field, SecretStr, field_validator
from pydantic_settings import (
    BaseSettings,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
    TomlConfigSettingsSource,
)

from couture_common.auth_settings import AuthSettings
from couture_common.secrets import SecretBox, load_or_create_keys

MIN_SERVICE_TOKEN_LENGTH = 32


class Settings(AuthSettings):
    """Every setting; the login ones (trusted proxies, LDAP) are declared in ``AuthSettings``."""

    model_config = SettingsConfigDict(env_prefix="COUTURE_", extra="ignore")

    home: Path = Field(default=Path.home() / "couture", description="Data, DAGs and logs live here.")
    port: int = Field(default=8080, ge=1, le=65535)
    host: str = "127.0.0.1"
    dags_folder: Path | None = Field(default=None, description="Defaults to HOME/dags.")
    event_log: str | None = Field(default=None, description="sqlite:///path or kafka://host:port,...")
    database_url: str | None = Field(
        default=None, description="Read models; sqlite+aiosqlite or postgresql+asyncpg."
    )
    fernet_key: str | None = Field(default=None, description="Comma-separated Fernet keys, newest first.")
    admin_password: str | None = None
    log_sync: Literal["full", "normal"] = Field(default="full", description="SQLite log durability.")
    parse_timeout: float = Field(default=30.0, gt=0)
    heartbeat_interval: float = Field(default=5.0, gt=0)
    zombie_threshold: float = Field(default=60.0, gt=0)
    executor_slots: int = Field(default=32, ge=1)
    health_port: int = Field(
        default=8090, ge=1, le=65535, description="/health and /ready of services without an HTTP API."
    )
    service_token: SecretStr | None = Field(
        default=None, description="The shared secret services call each other with (32+ characters)."
    )
    registry_url: str | None = Field(
        default=None, pattern=r"^https?://", description="Where executors fetch DAG file versions."
    )
    auth_url: str | None = Field(
        default=None,
        pattern=r"^https?://",
        description="The auth service whose JWKS gateways and the registry verify tokens with.",
    )
    access_token_ttl: float = Field(
        default=900, ge=30, le=86400, description="Seconds an access token is valid (15 minutes)."
    )
    refresh_token_ttl: float = Field(
        default=7 * 86400, ge=60, description="Seconds a refresh token (a browser session) is valid."
    )
    cookie_secure: bool = Field(
        default=False,
        description="Mark session cookies Secure even on plain-http loopback (always over https "
        "and for any other host).",
    )

    @field_validator("service_token")
    @classmethod
    def _long_enough(cls, token: SecretStr | None) -> SecretStr | None:
        # Only the length is told: the value is a secret.
        if token is not None and len(token.get_secret_value()) < MIN_SERVICE_TOKEN_LENGTH:
            length = len(token.get_secret_value())
            raise ValueError(f"must be at least {MIN_SERVICE_TOKEN_LENGTH} characters, not {length}")
        return token

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        config_file = os.environ.get("COUTURE_CONFIG_FILE")
        if not config_file:
            return (init_settings, env_settings)
        if not Path(config_file).is_file():
            raise ValueError(f"COUTURE_CONFIG_FILE: {config_file} is not a file")
        return (init_settings, env_settings, TomlConfigSettingsSource(settings_cls, toml_file=config_file))

    @property
    def dags_path(self) -> Path:
        return self.dags_folder or self.home / "dags"

    @property
    def logs_path(self) -> Path:
        return self.home / "logs"

    @property
    def blobs_path(self) -> Path:
        return self.home / "blobs"

    @property
    def event_log_url(self) -> str:
        return self.event_log or f"sqlite:///{self.home / 'data' / 'events.db'}"

    @property
    def database(self) -> str:
        return self.database_url or f"sqlite+aiosqlite:///{self.home / 'data' / 'readmodels.db'}"

    @cached_property
    def secret_box(self) -> SecretBox:
        return SecretBox(load_or_create_keys(self.fernet_key, self.home / "data" / "fernet.key"))
