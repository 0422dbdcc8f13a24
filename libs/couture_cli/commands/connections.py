"""``couture connections add|delete|list|import|export``. Several entries may share a conn_id;
tasks get one at random per use. Passwords and extras are encrypted before they enter the log."""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

from couture_cli.errors import CliError
from couture_cli.logview import append, load_config
from couture_cli.output import print_table, write_private
from couture_common.connection_uri import ConnectionFields, parse_connection_uri
from couture_common.events import ConnectionDeleted, ConnectionSet, Event
from couture_common.ids import new_id
from couture_common.secrets import SecretBox
from couture_common.settings import Settings

MAX_CONN_ID_LENGTH = 250


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    connections = sub.add_parser("connections", help="Manage connections (passwords are encrypted)")
    cmds = connections.add_subparsers(dest="connections_command", required=True, metavar="COMMAND")

    p = cmds.add_parser("add", help="Add a connection entry (another entry with the same id is kept too)")
    p.add_argument("conn_id")
    p.add_argument("--conn-uri", help="type://login:password@host:port/schema?extra_key=value")
    p.add_argument("--conn-type")
    p.add_argument("--conn-host")
    p.add_argument("--conn-login")
    p.add_argument("--conn-password")
    p.add_argument("--conn-port", type=int)
    p.add_argument("--conn-schema")
    p.add_argument("--conn-extra", help="JSON object")
    p.add_argument("--conn-description")
    p.set_defaults(handler=add_connection)

    p = cmds.add_parser("delete", help="Delete every entry of a conn_id")
    p.add_argument("conn_id")
    p.set_defaults(handler=delete_connection)

    p = cmds.add_parser("list", help="List connection entries (never passwords)")
    p.set_defaults(handler=list_connections)

    p = cmds.add_parser("import", help="Add the connections of a JSON file {conn_id: {...} | [{...}, ...]}")
    p.add_argument("file", type=Path)
    p.set_defaults(handler=import_connections)

    p = cmds.add_parser("export", help="Write every connection to a JSON file (mode 0600, with passwords)")
    p.add_argument("file", type=Path)
    p.set_defaults(handler=export_connections)


def _check_conn_id(conn_id: str) -> str:
    if not conn_id or len(conn_id) > MAX_CONN_ID_LENGTH:
        raise CliError(f"conn_id: 1 to {MAX_CONN_ID_LENGTH} characters")
    return conn_id


def _check_extra(extra: str | None, *, where: str) -> str | None:
    if extra is None:
        return None
    try:
        if not isinstance(json.loads(extra), dict):
            raise CliError(f"{where}: extra must be a JSON object")
    except json.JSONDecodeError as exc:
        raise CliError(f"{where}: extra is not valid JSON: {exc}") from None
    return extra


def _event(conn_id: str, fields: ConnectionFields, description: str | None, box: SecretBox) -> ConnectionSet:
    return ConnectionSet(
        entry_id=new_id(),
        conn_id=_check_conn_id(conn_id),
        conn_type=fields.conn_type,
        description=description,
        host=fields.host,
        schema=fields.schema,
        login=fields.login,
        password=box.encrypt(fields.password) if fields.password is not None else None,
        port=fields.port,
        extra=box.encrypt(fields.extra) if fields.extra is not None else None,
    )


async def add_connection(args: argparse.Namespace, settings: Settings) -> int:
    if args.conn_uri and args.conn_type:
        raise CliError("give either --conn-uri or --conn-type with the other --conn-* options, not both")
    if args.conn_uri:
        try:
            fields = parse_connection_uri(args.conn_uri)
        except ValueError as exc:
            raise CliError(str(exc)) from None
    elif args.conn_type:
        fields = ConnectionFields(
            conn_type=args.conn_type,
            host=args.conn_host,
            login=args.conn_login,
            password=args.conn_password,
            port=args.conn_port,
            schema=args.conn_schema,
            extra=_check_extra(args.conn_extra, where="--conn-extra"),
        )
    else:
        raise CliError("--conn-uri or --conn-type is required")
    await append(settings, [_event(args.conn_id, fields, args.conn_description, settings.secret_box)])
    print(f"Successfully added `conn_id`={args.conn_id} : {fields.conn_type}://{fields.host or ''}")
    return 0


async def delete_connection(args: argparse.Namespace, settings: Settings) -> int:
    entries = [e for e in (await load_config(settings)).connection_entries() if e.conn_id == args.conn_id]
    if not entries:
        raise CliError(f"Did not find a connection with `conn_id`={args.conn_id}")
    await append(settings, [ConnectionDeleted(entry_id=e.entry_id, conn_id=e.conn_id) for e in entries])
    print(f"Successfully deleted connection with `conn_id`={args.conn_id}")
    return 0


async def list_connections(args: argparse.Namespace, settings: Settings) -> int:
    entries = (await load_config(settings)).connection_entries()
    print_table(
        ("conn_id", "conn_type", "host", "port", "login", "schema", "entry_id"),
        [(e.conn_id, e.conn_type, e.host, e.port, e.login, e.schema, e.entry_id) for e in entries],
    )
    return 0


def _fields_from_json(conn_id: str, item: Any) -> tuple[ConnectionFields, str | None]:
    where = f"connection {conn_id!r}"
    if not isinstance(item, dict):
        raise CliError(f"{where}: must be a JSON object")
    if "uri" in item:
        try:
            return parse_connection_uri(str(item["uri"])), item.get("description")
        except ValueError as exc:
            raise CliError(f"{where}: {exc}") from None
    if not item.get("conn_type"):
        raise CliError(f"{where}: conn_type is required")
    extra = item.get("extra")
    if isinstance(extra, dict):
        extra = json.dumps(extra)
    port = item.get("port")
    if port is not None and not isinstance(port, int):
        raise CliError(f"{where}: port must be an integer")
    return (
        ConnectionFields(
            conn_type=str(item["conn_type"]),
            host=item.get("host"),
            login=item.get("login"),
            password=item.get("password"),
            port=port,
            schema=item.get("schema"),
            extra=_check_extra(extra, where=where),
        ),
        item.get("description"),
    )


async def import_connections(args: argparse.Namespace, settings: Settings) -> int:
    try:
        content: Any = json.loads(args.file.read_text())
    except OSError as exc:
        raise CliError(f"cannot read {args.file}: {exc.strerror}") from None
    except json.JSONDecodeError as exc:
        raise CliError(f"{args.file} is not valid JSON: {exc}") from None
    if not isinstance(content, dict):
        raise CliError(f"{args.file} must hold a JSON object of conn_id: connection (or list of them)")
    events: list[Event] = []
    for conn_id, value in content.items():
        for item in value if isinstance(value, list) else [value]:
            fields, description = _fields_from_json(conn_id, item)
            events.append(_event(conn_id, fields, description, settings.secret_box))
    await append(settings, events)
    print(f"Imported {len(events)} connection entries from {args.file}")
    return 0


async def export_connections(args: argparse.Namespace, settings: Settings) -> int:
    box = settings.secret_box
    exported: dict[str, list[dict[str, Any]]] = {}
    for entry in (await load_config(settings)).connection_entries():
        exported.setdefault(entry.conn_id, []).append(
            {
                "conn_type": entry.conn_type,
                "description": entry.description,
                "host": entry.host,
                "login": entry.login,
                "password": box.decrypt(entry.password) if entry.password else None,
                "port": entry.port,
                "schema": entry.schema,
                "extra": box.decrypt(entry.extra) if entry.extra else None,
            }
        )
    write_private(args.file, json.dumps(exported, indent=4, sort_keys=True) + "\n")
    print(f"Connections successfully exported to {args.file}")
    return 0
