"""Variables and connections, read through the task process's runtime (``Variable.get`` ...)."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

from couture_sdk.exceptions import AirflowNotFoundException
from couture_sdk.runtime import ConnectionInfo, current_runtime
from couture_sdk.secrets_masker import MASKER

_NO_DEFAULT: Any = object()


class Variable:
    @classmethod
    def get(cls, key: str, default_var: Any = _NO_DEFAULT, deserialize_json: bool = False) -> Any:
        value = current_runtime().get_variable(key)
        if value is None:
            if default_var is _NO_DEFAULT:
                raise KeyError(f"Variable {key} does not exist")
            return default_var
        MASKER.add_variable(key, value)
        return json.loads(value) if deserialize_json else value

    @classmethod
    def set(cls, key: str, value: Any, description: str | None = None, serialize_json: bool = False) -> None:
        text = json.dumps(value, indent=2) if serialize_json else str(value)
        current_runtime().set_variable(key, text, description)

    @classmethod
    def setdefault(
        cls, key: str, default: Any, description: str | None = None, deserialize_json: bool = False
    ) -> Any:
        value = cls.get(key, default_var=None, deserialize_json=deserialize_json)
        if value is None:
            if default is None:
                raise ValueError("Default Value must be set")
            cls.set(key, default, description=description, serialize_json=deserialize_json)
            return default
        return value

    @classmethod
    def delete(cls, key: str) -> None:
        current_runtime().delete_variable(key)


@dataclass(repr=False)
class Connection:
    conn_id: str
    conn_type: str = ""
    host: str | None = None
    schema: str | None = None
    login: str | None = None
    password: str | None = None
    port: int | None = None
    extra: str | None = None

    @classmethod
    def from_info(cls, info: ConnectionInfo) -> Connection:
        return cls(
            conn_id=info.conn_id,
            conn_type=info.conn_type,
            host=info.host,
            schema=info.schema,
            login=info.login,
            password=info.password,
            port=info.port,
            extra=info.extra,
        )

    def __repr__(self) -> str:
        # The password never appears in a log line.
        return f"Connection(conn_id={self.conn_id!r}, conn_type={self.conn_type!r}, host={self.host!r})"

    @property
    def extra_dejson(self) -> dict[str, Any]:
        if not self.extra:
            return {}
        try:
            value = json.loads(self.extra)
        except ValueError:
            return {}
        return value if isinstance(value, dict) else {}

    def get_password(self) -> str | None:
        return self.password

    def get_extra(self) -> str | None:
        return self.extra

    def get_uri(self) -> str:
        auth = ""
        if self.login is not None:
            auth = quote(self.login, safe="")
            if self.password is not None:
                auth += ":" + quote(self.password, safe="")
            auth += "@"
        host = self.host or ""
        port = f":{self.port}" if self.port is not None else ""
        schema = f"/{quote(self.schema, safe='')}" if self.schema else ""
        return f"{self.conn_type.replace('_', '-')}://{auth}{host}{port}{schema}"


class BaseHook:
    @classmethod
    def get_connection(cls, conn_id: str) -> Connection:
        info = current_runtime().get_connection(conn_id)
        if info is None:
            raise AirflowNotFoundException(f"The conn_id `{conn_id}` isn't defined")
        MASKER.add(info.password)
        return Connection.from_info(info)

    @classmethod
    def get_connections(cls, conn_id: str) -> list[Connection]:
        return [cls.get_connection(conn_id)]
