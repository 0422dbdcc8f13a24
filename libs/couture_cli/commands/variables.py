"""``couture variables get|set|delete|list|import|export``. Values are encrypted before they
enter the event log and decrypted only to answer ``get`` and ``export``."""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

from couture_cli.errors import CliError
from couture_cli.logview import append, load_config
from couture_cli.output import write_private
from couture_common.events import Event, VariableDeleted, VariableSet
from couture_common.settings import Settings

MAX_KEY_LENGTH = 250


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    variables = sub.add_parser("variables", help="Manage variables (values are Fernet-encrypted)")
    cmds = variables.add_subparsers(dest="variables_command", required=True, metavar="COMMAND")

    p = cmds.add_parser("get", help="Print a variable's value")
    p.add_argument("key")
    p.add_argument("-j", "--json", action="store_true", help="deserialize JSON and print it indented")
    p.add_argument("-d", "--default", help="print this when the variable does not exist")
    p.set_defaults(handler=get_variable)

    p = cmds.add_parser("set", help="Set a variable")
    p.add_argument("key")
    p.add_argument("value")
    p.add_argument("-j", "--json", action="store_true", help="the value must be valid JSON")
    p.add_argument("--description")
    p.set_defaults(handler=set_variable)

    p = cmds.add_parser("delete", help="Delete a variable")
    p.add_argument("key")
    p.set_defaults(handler=delete_variable)

    p = cmds.add_parser("list", help="List variable keys (never values)")
    p.set_defaults(handler=list_variables)

    p = cmds.add_parser("import", help="Set every variable of a JSON file {key: value}")
    p.add_argument("file", type=Path)
    p.set_defaults(handler=import_variables)

    p = cmds.add_parser("export", help="Write every variable to a JSON file (created with mode 0600)")
    p.add_argument("file", type=Path)
    p.set_defaults(handler=export_variables)


def check_key(key: str) -> str:
    if not key or len(key) > MAX_KEY_LENGTH:
        raise CliError(f"key: 1 to {MAX_KEY_LENGTH} characters, got {len(key)}")
    return key


async def get_variable(args: argparse.Namespace, settings: Settings) -> int:
    token = (await load_config(settings)).variable_token(check_key(args.key))
    if token is None:
        if args.default is None:
            raise CliError(f"Variable {args.key} does not exist")
        print(args.default)
        return 0
    value = settings.secret_box.decrypt(token)
    if args.json:
        try:
            value = json.dumps(json.loads(value), indent=2)
        except json.JSONDecodeError:
            raise CliError(f"Variable {args.key} is not valid JSON") from None
    print(value)
    return 0


async def set_variable(args: argparse.Namespace, settings: Settings) -> int:
    if args.json:
        try:
            json.loads(args.value)
        except json.JSONDecodeError as exc:
            raise CliError(f"value is not valid JSON: {exc}") from None
    event = VariableSet(
        key=check_key(args.key), value=settings.secret_box.encrypt(args.value), description=args.description
    )
    await append(settings, [event])
    print(f"Variable {args.key} created")
    return 0


async def delete_variable(args: argparse.Namespace, settings: Settings) -> int:
    if (await load_config(settings)).variable_token(check_key(args.key)) is None:
        raise CliError(f"Variable {args.key} does not exist")
    await append(settings, [VariableDeleted(key=args.key)])
    print(f"Variable {args.key} deleted")
    return 0


async def list_variables(args: argparse.Namespace, settings: Settings) -> int:
    for key in (await load_config(settings)).variable_keys():
        print(key)
    return 0


async def import_variables(args: argparse.Namespace, settings: Settings) -> int:
    try:
        content: Any = json.loads(args.file.read_text())
    except OSError as exc:
        raise CliError(f"cannot read {args.file}: {exc.strerror}") from None
    except json.JSONDecodeError as exc:
        raise CliError(f"{args.file} is not valid JSON: {exc}") from None
    if not isinstance(content, dict):
        raise CliError(f"{args.file} must hold a JSON object of key: value")
    events: list[Event] = []
    for key, value in content.items():
        text = value if isinstance(value, str) else json.dumps(value)
        events.append(VariableSet(key=check_key(key), value=settings.secret_box.encrypt(text)))
    # One append: the whole file is imported or none of it.
    await append(settings, events)
    print(f"{len(events)} of {len(content)} variables successfully updated.")
    return 0


async def export_variables(args: argparse.Namespace, settings: Settings) -> int:
    view = await load_config(settings)
    exported: dict[str, Any] = {}
    for key in view.variable_keys():
        token = view.variable_token(key)
        assert token is not None
        value = settings.secret_box.decrypt(token)
        try:
            exported[key] = json.loads(value)
        except json.JSONDecodeError:
            exported[key] = value
    write_private(args.file, json.dumps(exported, indent=4, sort_keys=True) + "\n")
    print(f"{len(exported)} variables successfully exported to {args.file}")
    return 0
