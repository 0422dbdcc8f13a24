"""Topic ``config``: variables, connections and pools. Secrets stay Fernet tokens."""

from __future__ import annotations

from couture_common.events import (
    ConnectionDeleted,
    ConnectionSet,
    PoolDeleted,
    PoolSet,
    VariableDeleted,
    VariableSet,
)
from couture_gateway.readmodels.fold import audit
from couture_gateway.readmodels.fold.context import Context
from couture_gateway.readmodels.rowset import RowSet, Scope
from couture_gateway.readmodels.tables import connection, pool, variable


def variable_scopes(event: VariableSet | VariableDeleted) -> list[Scope]:
    return [Scope(variable.name, ("key",), (event.key,))]


def connection_scopes(event: ConnectionSet | ConnectionDeleted) -> list[Scope]:
    return [Scope(connection.name, ("entry_id",), (event.entry_id,))]


def pool_scopes(event: PoolSet | PoolDeleted) -> list[Scope]:
    return [Scope(pool.name, ("name",), (event.name,))]


def variable_set(rows: RowSet, event: VariableSet, ctx: Context) -> None:
    rows.put(
        variable,
        {
            "key": event.key,
            "encrypted_value": event.value,
            "description": event.description,
            "is_encrypted": True,
        },
    )
    audit.record(rows, ctx, "variable.set", extra={"key": event.key})


def variable_deleted(rows: RowSet, event: VariableDeleted, ctx: Context) -> None:
    rows.delete(variable, (event.key,))
    audit.record(rows, ctx, "variable.delete", extra={"key": event.key})


def connection_set(rows: RowSet, event: ConnectionSet, ctx: Context) -> None:
    rows.put(
        connection,
        {
            "entry_id": event.entry_id,
            "conn_id": event.conn_id,
            "conn_type": event.conn_type,
            "description": event.description,
            "host": event.host,
            "schema": event.schema,
            "login": event.login,
            "encrypted_password": event.password,
            "port": event.port,
            "encrypted_extra": event.extra,
        },
    )
    audit.record(
        rows,
        ctx,
        "connection.set",
        extra={"conn_id": event.conn_id, "entry_id": event.entry_id, "conn_type": event.conn_type},
    )


def connection_deleted(rows: RowSet, event: ConnectionDeleted, ctx: Context) -> None:
    rows.delete(connection, (event.entry_id,))
    audit.record(rows, ctx, "connection.delete", extra={"conn_id": event.conn_id, "entry_id": event.entry_id})


def pool_set(rows: RowSet, event: PoolSet, ctx: Context) -> None:
    rows.put(
        pool,
        {
            "name": event.name,
            "slots": event.slots,
            "description": event.description,
            "include_deferred": event.include_deferred,
        },
    )
    audit.record(rows, ctx, "pool.set", extra={"name": event.name, "slots": event.slots})


def pool_deleted(rows: RowSet, event: PoolDeleted, ctx: Context) -> None:
    rows.delete(pool, (event.name,))
    audit.record(rows, ctx, "pool.delete", extra={"name": event.name})
