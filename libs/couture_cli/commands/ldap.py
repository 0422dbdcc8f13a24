"""``couture ldap show|set|disable``: the LDAP login configuration, straight on the event log.

The way back in when a wrong LDAP setting locks everyone out: with ``AUTH_LDAP`` on, even the local
superadmin logs in through LDAP, so the Admin page cannot be reached. Each command acts like
Admin → LDAP Configuration (an ``LdapConfigSet`` on the ``auth`` topic, which wins over the
``COUTURE_AUTH_*`` settings) and running services apply it at the next login, without a restart.
The bind password is read from standard input only, stored Fernet-encrypted and never printed.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import sys
from typing import Any

from couture_auth.domain.ldap import (
    AUTH_DB,
    AUTH_LDAP,
    LdapSettings,
    LdapSettingsError,
    config_event,
    ldap_settings_from_options,
    settings_from_event,
    unknown_roles,
    validated,
)
from couture_auth.domain.users import UserDirectory
from couture_cli.errors import CliError
from couture_cli.logview import ACTOR, auth_directory, opened_log
from couture_cli.output import print_json, print_table
from couture_common.events import LdapConfigSet, envelope
from couture_common.settings import Settings

_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off"}
#: Every option but the switch itself, which has its own flag (and ``disable``).
_OPTIONS = [f for f in dataclasses.fields(LdapSettings) if f.name != "auth_type"]


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    ldap = sub.add_parser(
        "ldap", help="Show or repair the LDAP login configuration (works while nobody can log in)"
    )
    cmds = ldap.add_subparsers(dest="ldap_command", required=True, metavar="COMMAND")

    p = cmds.add_parser("show", help="The LDAP configuration in force and where it comes from (no password)")
    p.add_argument("--json", action="store_true", help="print JSON")
    p.set_defaults(handler=show_ldap)

    p = cmds.add_parser(
        "set",
        help="Change some options of the configuration in force; the others keep their values",
        description="Options are the manual's AUTH_LDAP_* ones, e.g. --server for AUTH_LDAP_SERVER. "
        "Booleans take true or false; --roles-mapping takes a JSON object of group DN to role names.",
    )
    p.add_argument("--auth-type", choices=(AUTH_DB, AUTH_LDAP), help="AUTH_LDAP turns LDAP login on")
    for option in _OPTIONS:
        flag = "--" + option.name.replace("_", "-")
        if option.type == "bool":
            p.add_argument(flag, type=_boolean(flag), metavar="true|false")
        elif option.name == "roles_mapping":
            p.add_argument(flag, type=_roles_mapping, metavar="JSON")
        else:
            p.add_argument(flag, metavar="VALUE")
    password = p.add_mutually_exclusive_group()
    password.add_argument(
        "--bind-password-stdin",
        action="store_true",
        help="read the search account's password from standard input (never from the command line)",
    )
    password.add_argument("--clear-bind-password", action="store_true", help="bind without a password")
    p.set_defaults(handler=set_ldap)

    p = cmds.add_parser(
        "disable",
        help="Log in with database passwords again (the superadmin's included); LDAP options are kept",
    )
    p.set_defaults(handler=disable_ldap)


async def show_ldap(args: argparse.Namespace, settings: Settings) -> int:
    async with opened_log(settings) as log:
        directory = await auth_directory(log)
    ldap, has_password, source = _in_force(directory, settings)
    values: dict[str, Any] = {f.name: getattr(ldap, f.name) for f in dataclasses.fields(LdapSettings)}
    values["roles_mapping"] = {dn: list(roles) for dn, roles in ldap.roles_mapping.items()}
    values["bind_password_set"] = has_password
    values["source"] = source
    if args.json:
        print_json(values)
        return 0
    print_table(("option", "value"), [(name, _shown(value)) for name, value in values.items()])
    return 0


async def set_ldap(args: argparse.Namespace, settings: Settings) -> int:
    changes = {f.name: value for f in _OPTIONS if (value := getattr(args, f.name)) is not None}
    if args.auth_type is not None:
        changes["auth_type"] = args.auth_type
    if not changes and not args.bind_password_stdin and not args.clear_bind_password:
        raise CliError("nothing to set: give at least one option (see couture ldap set --help)", exit_code=2)
    new_password = _read_bind_password() if args.bind_password_stdin else None
    async with opened_log(settings) as log:
        directory = await auth_directory(log)
        current, _, _ = _in_force(directory, settings)
        try:
            ldap = validated(dataclasses.replace(current, **changes))
        except LdapSettingsError as error:
            raise CliError(str(error), exit_code=2) from None
        unknown = unknown_roles(ldap, lambda name: directory.role(name) is not None)
        if unknown:
            raise CliError(f"roles: no role named {', '.join(unknown)}", exit_code=2)
        if args.clear_bind_password:
            encrypted = None
        elif new_password is not None:
            encrypted = settings.secret_box.encrypt(new_password)
        else:
            encrypted = _kept_bind_password(directory, settings)
        await log.append([envelope(config_event(ldap, encrypted), actor=ACTOR)])
    state = "on" if ldap.enabled else "off"
    print(f"LDAP configuration saved (LDAP login {state}); services apply it at the next login")
    return 0


async def disable_ldap(args: argparse.Namespace, settings: Settings) -> int:
    async with opened_log(settings) as log:
        directory = await auth_directory(log)
        current, _, _ = _in_force(directory, settings)
        off = dataclasses.replace(current, auth_type=AUTH_DB)
        await log.append([envelope(config_event(off, _kept_bind_password(directory, settings)), actor=ACTOR)])
    print(
        "LDAP login disabled: users log in with their database passwords (the superadmin too). "
        "The other LDAP options are kept; `couture ldap set --auth-type AUTH_LDAP` turns it back on."
    )
    return 0


def _in_force(directory: UserDirectory, settings: Settings) -> tuple[LdapSettings, bool, str]:
    """The configuration services use now, whether it has a bind password, and where it is from.

    Settings that are themselves unusable are shown as given, so they can be seen and mended.
    """
    stored: LdapConfigSet | None = directory.ldap_config
    if stored is not None:
        return settings_from_event(stored), stored.encrypted_bind_password is not None, "event log"
    try:
        ldap = ldap_settings_from_options(settings.ldap_options(), names_prefix="COUTURE_")
    except LdapSettingsError:
        options = settings.ldap_options()
        mapping = {dn.lower(): tuple(roles) for dn, roles in options.pop("roles_mapping").items()}
        ldap = LdapSettings(**options, roles_mapping=mapping)
    return ldap, bool(settings.ldap_bind_password()), "settings (COUTURE_AUTH_* / COUTURE_CONFIG_FILE)"


def _kept_bind_password(directory: UserDirectory, settings: Settings) -> str | None:
    """The bind password in force, encrypted: the stored one, else the one from the settings (the
    first save from the log must not lose it)."""
    stored = directory.ldap_config
    if stored is not None:
        return stored.encrypted_bind_password
    from_settings = settings.ldap_bind_password()
    return settings.secret_box.encrypt(from_settings) if from_settings else None


def _read_bind_password() -> str:
    password = sys.stdin.readline().rstrip("\r\n")
    if not password:
        raise CliError("--bind-password-stdin: standard input gave an empty password", exit_code=2)
    return password


def _boolean(flag: str) -> Any:
    def parse(raw: str) -> bool:
        lowered = raw.strip().lower()
        if lowered in _TRUE:
            return True
        if lowered in _FALSE:
            return False
        raise argparse.ArgumentTypeError(f"{flag}: expected true or false, got {raw!r}")

    return parse


def _roles_mapping(raw: str) -> dict[str, tuple[str, ...]]:
    try:
        parsed = json.loads(raw)
    except ValueError:
        raise argparse.ArgumentTypeError("not JSON") from None
    if not isinstance(parsed, dict) or not all(
        isinstance(roles, list) and all(isinstance(r, str) for r in roles) for roles in parsed.values()
    ):
        raise argparse.ArgumentTypeError("expected an object of group DN to a list of role names")
    return {dn.lower(): tuple(roles) for dn, roles in parsed.items()}


def _shown(value: Any) -> str:
    if isinstance(value, dict):
        return json.dumps(value, sort_keys=True)
    return str(value).lower() if isinstance(value, bool) else str(value)
