"""Role-based access control with the user manual's six roles, as pure data and one ``can``.

A permission is an ``(action, resource)`` pair in the manual's vocabulary (``("can_trigger",
"Airflow")``, ``("can_list", "VariableModelView")``). A built-in role holds every pair of its
actions with its resources, as the manual's sets define them. Access to a DAG is a pair too:
``("can_dag_read", dag_id)`` or ``("can_dag_edit", dag_id)``, where the resource ``all_dags``
stands for every DAG; this is how a custom role reads or edits only some DAGs.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from itertools import product

Permission = tuple[str, str]

VIEWER_PERMS: frozenset[str] = frozenset(
    {
        "menu_access",
        "can_index",
        "can_list",
        "can_show",
        "can_chart",
        "can_dag_stats",
        "can_dag_details",
        "can_task_stats",
        "can_code",
        "can_log",
        "can_get_logs_with_metadata",
        "can_tries",
        "can_graph",
        "can_tree",
        "can_task",
        "can_task_instances",
        "can_xcom",
        "can_gantt",
        "can_landing_times",
        "can_duration",
        "can_blocked",
        "can_rendered",
        "can_pickle_info",
        "can_version",
    }
)
VIEWER_VMS: frozenset[str] = frozenset(
    {
        "Airflow",
        "DagModelView",
        "Browse",
        "DAG Runs",
        "DagRunModelView",
        "Task Instances",
        "TaskInstanceModelView",
        "SLA Misses",
        "SlaMissModelView",
        "Jobs",
        "JobModelView",
        "Logs",
        "LogModelView",
        "Docs",
        "Documentation",
        "GitHub",
        "About",
        "Version",
        "VersionView",
    }
)
USER_PERMS: frozenset[str] = frozenset(
    {
        "can_dagrun_clear",
        "can_run",
        "can_trigger",
        "can_add",
        "can_edit",
        "can_delete",
        "can_paused",
        "can_refresh",
        "can_success",
        "muldelete",
        "set_failed",
        "set_running",
        "set_success",
        "clear",
        "can_clear",
    }
)
OP_PERMS: frozenset[str] = frozenset({"can_conf", "can_varimport"})
OP_VMS: frozenset[str] = frozenset(
    {
        "Admin",
        "Configurations",
        "ConfigurationView",
        "Connections",
        "ConnectionModelView",
        "Pools",
        "PoolModelView",
        "Variables",
        "VariableModelView",
        "XComs",
        "XComModelView",
    }
)
#: The Developer menu: Jupyter notebooks, code artifacts and editing DAG files (Manage DAGs).
DEVELOPER_VMS: frozenset[str] = frozenset(
    {"Developer", "Jupyter Notebook", "Code Artifacts", "Manage DAGs", "Models and Datasets"}
)

DAG_READ = "can_dag_read"
DAG_EDIT = "can_dag_edit"
ALL_DAGS = "all_dags"
_ALL_DAGS_READ: frozenset[Permission] = frozenset({(DAG_READ, ALL_DAGS)})
_ALL_DAGS_EDIT: frozenset[Permission] = frozenset({(DAG_READ, ALL_DAGS), (DAG_EDIT, ALL_DAGS)})

ADMIN = "Admin"
OP = "Op"
USER = "User"
VIEWER = "Viewer"
PUBLIC = "Public"
DEVELOPER = "Developer"


@dataclass(frozen=True, slots=True)
class Role:
    name: str
    permissions: frozenset[Permission]
    #: Admin: every permission, including ones added after the role was defined.
    everything: bool = False

    def grants(self, action: str, resource: str) -> bool:
        return self.everything or (action, resource) in self.permissions


def _pairs(actions: Iterable[str], resources: Iterable[str]) -> frozenset[Permission]:
    return frozenset(product(actions, resources))


_VIEWER = _pairs(VIEWER_PERMS, VIEWER_VMS) | _ALL_DAGS_READ
_USER = _pairs(VIEWER_PERMS | USER_PERMS, VIEWER_VMS) | _ALL_DAGS_EDIT
_OP = _USER | _pairs(VIEWER_PERMS | USER_PERMS | OP_PERMS, VIEWER_VMS | OP_VMS)
_DEVELOPER = _USER | _pairs(VIEWER_PERMS | USER_PERMS, DEVELOPER_VMS)

#: The roles every installation has; they cannot be changed or deleted.
BUILTIN_ROLES: Mapping[str, Role] = {
    ADMIN: Role(ADMIN, frozenset(), everything=True),
    OP: Role(OP, _OP),
    USER: Role(USER, _USER),
    VIEWER: Role(VIEWER, _VIEWER),
    PUBLIC: Role(PUBLIC, frozenset()),
    DEVELOPER: Role(DEVELOPER, _DEVELOPER),
}


@dataclass(frozen=True, slots=True)
class Principal:
    """A signed-in user with the roles they hold now (not the ones their token was issued with)."""

    username: str
    roles: tuple[Role, ...]
    #: Until they set a new password, the user may do nothing else.
    password_change_required: bool = False

    def grants(self, action: str, resource: str) -> bool:
        return any(role.grants(action, resource) for role in self.roles)

    @property
    def role_names(self) -> tuple[str, ...]:
        return tuple(role.name for role in self.roles)

    @property
    def has_every_permission(self) -> bool:
        return any(role.everything for role in self.roles)


def dag_access_for(action: str) -> str:
    """The DAG access an action needs: reading for the Viewer's actions, editing for the rest."""
    return DAG_READ if action in VIEWER_PERMS else DAG_EDIT


def can(principal: Principal, action: str, resource: str, dag_id: str | None = None) -> bool:
    """Whether ``principal`` may do ``action`` on ``resource``, and on DAG ``dag_id`` when given."""
    if not principal.grants(action, resource):
        return False
    return dag_id is None or can_access_dag(principal, dag_access_for(action), dag_id)


def can_access_dag(principal: Principal, access: str, dag_id: str) -> bool:
    return principal.grants(access, ALL_DAGS) or principal.grants(access, dag_id)


def readable_dags(principal: Principal) -> frozenset[str] | None:
    """The DAG ids ``principal`` may read; None when it may read every DAG."""
    if principal.grants(DAG_READ, ALL_DAGS):
        return None
    return frozenset(
        resource for role in principal.roles for action, resource in role.permissions if action == DAG_READ
    )
