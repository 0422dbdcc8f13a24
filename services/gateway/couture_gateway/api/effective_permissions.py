"""What the signed-in user may do, as the UI needs it to show only the menus and controls they can use.

The same data ``authorize`` judges requests by (``couture_auth.domain.permissions``), with DAG access
split out of the other pairs: the UI asks "may I trigger?" and "may I edit DAG X?" separately, as
``can`` does. The server still decides every request; this only spares users controls that would
be refused.
"""

from __future__ import annotations

from couture_auth.domain.permissions import ALL_DAGS, DAG_EDIT, DAG_READ, VIEWER_PERMS, Principal
from couture_gateway.schemas.auth import DagAccess, EffectivePermissions

#: ``dag_access_for``'s split: these actions need read access to a DAG, the others edit access.
_READ_ACTIONS = sorted(VIEWER_PERMS)


def effective_permissions(principal: Principal) -> EffectivePermissions:
    """Every ``(action, resource)`` pair the principal's roles grant, and the DAGs it may read/edit."""
    if principal.has_every_permission:
        return EffectivePermissions(
            everything=True,
            permissions={},
            dag_read=DagAccess(all=True),
            dag_edit=DagAccess(all=True),
            dag_read_actions=_READ_ACTIONS,
        )
    pairs = {pair for role in principal.roles for pair in role.permissions}
    by_resource: dict[str, list[str]] = {}
    for action, resource in sorted(pairs, key=lambda pair: (pair[1], pair[0])):
        if action not in (DAG_READ, DAG_EDIT):
            by_resource.setdefault(resource, []).append(action)
    return EffectivePermissions(
        everything=False,
        permissions=by_resource,
        dag_read=_dag_access(pairs, DAG_READ),
        dag_edit=_dag_access(pairs, DAG_EDIT),
        dag_read_actions=_READ_ACTIONS,
    )


def _dag_access(pairs: set[tuple[str, str]], access: str) -> DagAccess:
    dag_ids = sorted(resource for action, resource in pairs if action == access)
    if ALL_DAGS in dag_ids:
        return DagAccess(all=True)
    return DagAccess(all=False, dag_ids=dag_ids)
