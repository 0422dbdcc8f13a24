"""Couture: Security → List Users / List Roles / Permissions (Admin only, see ``api.access``).

Users are never deleted: ``DELETE`` deactivates them, so the audit trail keeps naming who acted.
The built-in roles are fixed; custom roles hold any permissions, per-DAG ones included.
"""

from __future__ import annotations

import asyncio

from fastapi import APIRouter, HTTPException, Response, status

from couture_auth.domain.ldap import LdapSettings, LdapSettingsError, config_event, unknown_roles, validated
from couture_auth.domain.permissions import ALL_DAGS, BUILTIN_ROLES, DAG_EDIT, DAG_READ, Role
from couture_auth.domain.users import User, UserDirectory
from couture_auth.passwords import hash_password
from couture_common.events import (
    Event,
    RoleDeleted,
    RoleSet,
    UserCreated,
    UserDeactivated,
    UserEdited,
    UserReactivated,
)
from couture_gateway.deps import AuthDep, SettingsDep, WriterDep
from couture_gateway.schemas.common import HTTPExceptionResponse
from couture_gateway.schemas.security import (
    AccountCollectionResponse,
    AccountResponse,
    ActionResource,
    LdapConfigBody,
    LdapConfigResponse,
    NamedItem,
    PermissionCollectionResponse,
    RoleBody,
    RoleCollectionResponse,
    RoleResponse,
    UserBody,
    UserPatchBody,
)

router = APIRouter(prefix="/security", tags=["Security (Couture)"])
_ERRORS: dict[int | str, dict[str, object]] = {
    400: {"model": HTTPExceptionResponse},
    404: {"model": HTTPExceptionResponse},
    409: {"model": HTTPExceptionResponse},
}


def _account(user: User) -> AccountResponse:
    return AccountResponse(
        username=user.username,
        roles=list(user.roles),
        email=user.email,
        first_name=user.first_name,
        last_name=user.last_name,
        active=user.active,
    )


def _known(directory: UserDirectory, username: str) -> User:
    user = directory.get(username)
    if user is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, f"User `{username}` was not found")
    return user


def _check_roles(directory: UserDirectory, roles: list[str]) -> tuple[str, ...]:
    unknown = [name for name in roles if directory.role(name) is None]
    if unknown:
        raise HTTPException(status.HTTP_400_BAD_REQUEST, f"roles: no role named {', '.join(unknown)}")
    return tuple(dict.fromkeys(roles))


@router.get("/users")
async def get_users(auth: AuthDep) -> AccountCollectionResponse:
    directory = await auth.directory()
    users = [_account(directory.users[name]) for name in sorted(directory.users)]
    return AccountCollectionResponse(users=users, total_entries=len(users))


@router.get("/users/{username}", responses=_ERRORS)
async def get_user(username: str, auth: AuthDep) -> AccountResponse:
    return _account(_known(await auth.directory(), username))


@router.post("/users", status_code=status.HTTP_201_CREATED, responses=_ERRORS)
async def post_user(body: UserBody, auth: AuthDep, writer: WriterDep) -> AccountResponse:
    directory = await auth.directory()
    if directory.get(body.username) is not None:
        raise HTTPException(status.HTTP_409_CONFLICT, f"User `{body.username}` already exists")
    event = UserCreated(
        username=body.username,
        password_hash=await asyncio.to_thread(hash_password, body.password),
        roles=_check_roles(directory, body.roles),
        email=body.email,
        first_name=body.first_name,
        last_name=body.last_name,
    )
    await writer.append(event)
    return _account(_known(await auth.directory(), body.username))


@router.patch("/users/{username}", responses=_ERRORS)
async def patch_user(username: str, body: UserPatchBody, auth: AuthDep, writer: WriterDep) -> AccountResponse:
    """Replace the user's roles and profile; ``active: false`` deactivates them."""
    directory = await auth.directory()
    user = _known(directory, username)
    if not body.active and username == writer.actor.removeprefix("user:"):
        raise HTTPException(status.HTTP_400_BAD_REQUEST, "active: you cannot deactivate yourself")
    events: list[Event] = [
        UserEdited(
            username=username,
            roles=_check_roles(directory, body.roles),
            email=body.email,
            first_name=body.first_name,
            last_name=body.last_name,
        )
    ]
    if body.active != user.active:
        events.append(
            UserReactivated(username=username) if body.active else UserDeactivated(username=username)
        )
    await writer.append(*events)
    return _account(_known(await auth.directory(), username))


@router.delete("/users/{username}", status_code=status.HTTP_204_NO_CONTENT, responses=_ERRORS)
async def delete_user(username: str, auth: AuthDep, writer: WriterDep) -> Response:
    """Deactivate the user: they can no longer log in and their tokens stop working."""
    _known(await auth.directory(), username)
    if username == writer.actor.removeprefix("user:"):
        raise HTTPException(status.HTTP_400_BAD_REQUEST, "You cannot deactivate yourself")
    await writer.append(UserDeactivated(username=username))
    return Response(status_code=status.HTTP_204_NO_CONTENT)


def _role_response(role: Role) -> RoleResponse:
    pairs = sorted(role.permissions) if not role.everything else sorted(_every_permission())
    return RoleResponse(name=role.name, actions=[_pair(a, r) for a, r in pairs])


def _pair(action: str, resource: str) -> ActionResource:
    return ActionResource(action=NamedItem(name=action), resource=NamedItem(name=resource))


def _every_permission() -> set[tuple[str, str]]:
    known = {pair for role in BUILTIN_ROLES.values() for pair in role.permissions}
    return known | {(DAG_READ, ALL_DAGS), (DAG_EDIT, ALL_DAGS)}


def _known_role(directory: UserDirectory, name: str) -> Role:
    role = directory.role(name)
    if role is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, f"Role `{name}` was not found")
    return role


def _custom(name: str) -> None:
    if name in BUILTIN_ROLES:
        raise HTTPException(
            status.HTTP_400_BAD_REQUEST, f"name: `{name}` is a built-in role and cannot change"
        )


@router.get("/roles")
async def get_roles(auth: AuthDep) -> RoleCollectionResponse:
    roles = [_role_response(role) for role in (await auth.directory()).roles()]
    return RoleCollectionResponse(roles=roles, total_entries=len(roles))


@router.get("/roles/{role_name}", responses=_ERRORS)
async def get_role(role_name: str, auth: AuthDep) -> RoleResponse:
    return _role_response(_known_role(await auth.directory(), role_name))


@router.post("/roles", status_code=status.HTTP_201_CREATED, responses=_ERRORS)
async def post_role(body: RoleBody, auth: AuthDep, writer: WriterDep) -> RoleResponse:
    """A custom role; ``("can_dag_read" | "can_dag_edit", <dag_id>)`` grants access to one DAG."""
    _custom(body.name)
    if (await auth.directory()).role(body.name) is not None:
        raise HTTPException(status.HTTP_409_CONFLICT, f"Role `{body.name}` already exists")
    return await _set_role(body, auth, writer)


@router.patch("/roles/{role_name}", responses=_ERRORS)
async def patch_role(role_name: str, body: RoleBody, auth: AuthDep, writer: WriterDep) -> RoleResponse:
    """Replace a custom role's permissions; users holding it get them on their next request."""
    _custom(role_name)
    _known_role(await auth.directory(), role_name)
    if body.name != role_name:
        raise HTTPException(
            status.HTTP_400_BAD_REQUEST, f"name: `{body.name}` differs from the URL's `{role_name}`"
        )
    return await _set_role(body, auth, writer)


async def _set_role(body: RoleBody, auth: AuthDep, writer: WriterDep) -> RoleResponse:
    permissions = tuple(sorted({(a.action.name, a.resource.name) for a in body.actions}))
    await writer.append(RoleSet(name=body.name, permissions=permissions))
    return _role_response(_known_role(await auth.directory(), body.name))


@router.delete("/roles/{role_name}", status_code=status.HTTP_204_NO_CONTENT, responses=_ERRORS)
async def delete_role(role_name: str, auth: AuthDep, writer: WriterDep) -> Response:
    """Delete a custom role: users holding it keep the name, which then grants nothing."""
    _custom(role_name)
    _known_role(await auth.directory(), role_name)
    await writer.append(RoleDeleted(name=role_name))
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.get("/permissions")
async def get_permissions() -> PermissionCollectionResponse:
    """Every permission the built-in roles are made of; per-DAG ones name a dag_id as resource."""
    actions = [_pair(a, r) for a, r in sorted(_every_permission())]
    return PermissionCollectionResponse(actions=actions, total_entries=len(actions))


async def _ldap_response(auth: AuthDep) -> LdapConfigResponse:
    settings, bind_password = await auth.ldap_settings()
    fields = {name: getattr(settings, name) for name in LdapSettings.__dataclass_fields__}
    return LdapConfigResponse(
        **{**fields, "roles_mapping": {dn: list(roles) for dn, roles in settings.roles_mapping.items()}},
        bind_password_set=bool(bind_password),
        source="admin" if await auth.ldap_configured_by_admin() else "environment",
    )


@router.get("/ldap")
async def get_ldap_config(auth: AuthDep) -> LdapConfigResponse:
    """Admin → LDAP Configuration as in force now; the bind password is never shown."""
    return await _ldap_response(auth)


@router.put("/ldap", responses=_ERRORS)
async def put_ldap_config(
    body: LdapConfigBody, auth: AuthDep, writer: WriterDep, settings: SettingsDep
) -> LdapConfigResponse:
    """Replace the LDAP configuration; it applies to the next login, no restart needed."""
    fields = body.model_dump(exclude={"bind_password"})
    roles_mapping = {dn.lower(): tuple(roles) for dn, roles in body.roles_mapping.items()}
    try:
        ldap = validated(LdapSettings(**{**fields, "roles_mapping": roles_mapping}))
    except LdapSettingsError as error:
        raise HTTPException(status.HTTP_400_BAD_REQUEST, str(error)) from None
    directory = await auth.directory()
    unknown = unknown_roles(ldap, lambda name: directory.role(name) is not None)
    if unknown:
        raise HTTPException(status.HTTP_400_BAD_REQUEST, f"roles: no role named {', '.join(unknown)}")
    if body.bind_password is not None:
        encrypted = settings.secret_box.encrypt(body.bind_password) if body.bind_password else None
    else:
        stored = directory.ldap_config
        encrypted = stored.encrypted_bind_password if stored is not None else None
    await writer.append(config_event(ldap, encrypted))
    return await _ldap_response(auth)
