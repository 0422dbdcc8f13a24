"""``couture users create`` and ``couture users list``."""

from __future__ import annotations

import argparse
import getpass
import re

from couture_auth.passwords import hash_password
from couture_cli.errors import CliError
from couture_cli.logview import auth_directory, opened_log
from couture_cli.output import print_table
from couture_common.events import UserCreated, envelope
from couture_common.settings import Settings

#: The roles the user's manual ships with.
ROLES = ("Admin", "Op", "User", "Viewer", "Public", "Developer")
_USERNAME = re.compile(r"^[A-Za-z0-9_.@-]{1,64}$")
MIN_PASSWORD_LENGTH = 8


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    users = sub.add_parser("users", help="Manage users")
    cmds = users.add_subparsers(dest="users_command", required=True, metavar="COMMAND")
    p = cmds.add_parser("create", help="Create a user (asks for the password unless --password is given)")
    p.add_argument("-u", "--username", required=True)
    p.add_argument("-r", "--role", required=True, choices=ROLES)
    p.add_argument("-e", "--email")
    p.add_argument("-f", "--firstname")
    p.add_argument("-l", "--lastname")
    p.add_argument("-p", "--password", help="prefer the prompt: a password here lands in shell history")
    p.set_defaults(handler=create_user)

    p = cmds.add_parser("list", help="List users with their roles (never passwords)")
    p.set_defaults(handler=list_users)


async def create_user(args: argparse.Namespace, settings: Settings) -> int:
    if not _USERNAME.match(args.username):
        raise CliError("--username: 1-64 characters of letters, digits, '_', '.', '@' or '-'")
    password = args.password if args.password is not None else _prompt_password()
    if len(password) < MIN_PASSWORD_LENGTH:
        raise CliError(f"--password: at least {MIN_PASSWORD_LENGTH} characters")
    async with opened_log(settings) as log:
        directory = await auth_directory(log)
        if directory.get(args.username) is not None:
            raise CliError(f"user {args.username!r} already exists")
        event = UserCreated(
            username=args.username,
            password_hash=hash_password(password),
            roles=(args.role,),
            email=args.email,
            first_name=args.firstname,
            last_name=args.lastname,
        )
        await log.append([envelope(event, actor="cli")])
    print(f"User {args.username} created with role {args.role}")
    return 0


async def list_users(args: argparse.Namespace, settings: Settings) -> int:
    async with opened_log(settings) as log:
        directory = await auth_directory(log)
    rows = [
        (u.username, ", ".join(u.roles), u.email, u.first_name, u.last_name, "yes" if u.active else "no")
        for u in (directory.users[name] for name in sorted(directory.users))
    ]
    print_table(("username", "roles", "email", "first_name", "last_name", "active"), rows)
    return 0


def _prompt_password() -> str:
    first = getpass.getpass("Password: ")
    if getpass.getpass("Repeat password: ") != first:
        raise CliError("passwords do not match")
    return first
