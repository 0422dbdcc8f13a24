"""Which permission each endpoint needs: the one table the gateway authorizes every request by.

Keys are the routes' operation ids (their FastAPI names). An endpoint missing here is refused to
everyone but Admin, so a new route is closed until it is given a rule.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum
from typing import Any

from sqlalchemy import ColumnElement

from couture_auth.domain.permissions import Permission


class DagScope(Enum):
    #: The endpoint touches no DAG.
    NONE = "none"
    #: The DAG named by the ``dag_id`` path parameter (``~``: every DAG, lists filtered to readable ones).
    PATH = "path"
    #: Every DAG at once (pausing by filter).
    ALL = "all"


@dataclass(frozen=True, slots=True)
class Rule:
    #: All are required. None at all: any signed-in user (their own account).
    permissions: tuple[Permission, ...]
    dag: DagScope = DagScope.NONE


def _rule(*permissions: Permission, dag: DagScope = DagScope.NONE) -> Rule:
    return Rule(permissions, dag)


_PATH = DagScope.PATH
SIGNED_IN = Rule(())

_DAGS = "DagModelView"
_RUNS = "DagRunModelView"
_TIS = "TaskInstanceModelView"
_LOGS = "LogModelView"
_VARIABLES = "VariableModelView"
_CONNECTIONS = "ConnectionModelView"
_POOLS = "PoolModelView"
_USERS = "UserDBModelView"
_ROLES = "RoleModelView"
_PERMISSIONS = "PermissionModelView"
_AUDIT = "AuditLogView"
_SLA_MISSES = "SlaMissModelView"
_LDAP = "LdapConfigView"
_AIRFLOW = "Airflow"


def _crud(resource: str, prefix: str) -> dict[str, Rule]:
    """get_<x>s, get_<x>, post_<x>, patch_<x>, delete_<x> and bulk_<x>s on a resource."""
    return {
        f"get_{prefix}s": _rule(("can_list", resource)),
        f"get_{prefix}": _rule(("can_show", resource)),
        f"post_{prefix}": _rule(("can_add", resource)),
        f"patch_{prefix}": _rule(("can_edit", resource)),
        f"delete_{prefix}": _rule(("can_delete", resource)),
        f"bulk_{prefix}s": _rule(("can_add", resource), ("can_edit", resource), ("can_delete", resource)),
    }


RULES: dict[str, Rule] = {
    # DAGs
    "get_dags": _rule(("can_list", _DAGS), dag=_PATH),
    "patch_dags": _rule(("can_paused", _AIRFLOW), dag=DagScope.ALL),
    "get_dag": _rule(("can_show", _DAGS), dag=_PATH),
    "patch_dag": _rule(("can_paused", _AIRFLOW), dag=_PATH),
    "get_dag_details": _rule(("can_dag_details", _AIRFLOW), dag=_PATH),
    "get_dag_tags": _rule(("can_list", _DAGS)),
    "get_dag_versions": _rule(("can_code", _AIRFLOW), dag=_PATH),
    "get_dag_version": _rule(("can_code", _AIRFLOW), dag=_PATH),
    "get_dag_source": _rule(("can_code", _AIRFLOW), dag=_PATH),
    "get_dag_stats": _rule(("can_dag_stats", _AIRFLOW), dag=_PATH),
    "get_tasks": _rule(("can_task", _AIRFLOW), dag=_PATH),
    "get_task": _rule(("can_task", _AIRFLOW), dag=_PATH),
    # DAG runs
    "get_dag_runs": _rule(("can_list", _RUNS), dag=_PATH),
    "get_list_dag_runs_batch": _rule(("can_list", _RUNS), dag=_PATH),
    "trigger_dag_run": _rule(("can_trigger", _AIRFLOW), dag=_PATH),
    "get_dag_run": _rule(("can_show", _RUNS), dag=_PATH),
    "wait_dag_run_until_finished": _rule(("can_show", _RUNS), dag=_PATH),
    "patch_dag_run": _rule(("can_edit", _RUNS), dag=_PATH),
    "delete_dag_run": _rule(("can_delete", _RUNS), dag=_PATH),
    "clear_dag_run": _rule(("can_dagrun_clear", _AIRFLOW), dag=_PATH),
    "get_triggered_dag_runs": _rule(("can_list", _RUNS), dag=_PATH),
    # Task instances
    "get_task_instances": _rule(("can_list", _TIS), dag=_PATH),
    "get_task_instances_batch": _rule(("can_list", _TIS), dag=_PATH),
    "get_task_instance": _rule(("can_show", _TIS), dag=_PATH),
    "get_task_instance_tries": _rule(("can_tries", _AIRFLOW), dag=_PATH),
    "get_task_instance_try_details": _rule(("can_tries", _AIRFLOW), dag=_PATH),
    "get_extra_links": _rule(("can_show", _TIS), dag=_PATH),
    "get_log": _rule(("can_log", _AIRFLOW), dag=_PATH),
    "patch_task_instance_dry_run": _rule(("can_edit", _TIS), dag=_PATH),
    "patch_task_instance": _rule(("can_edit", _TIS), dag=_PATH),
    "post_clear_task_instances": _rule(("can_clear", _AIRFLOW), dag=_PATH),
    "get_xcom_entries": _rule(("can_xcom", _AIRFLOW), dag=_PATH),
    "get_xcom_entry": _rule(("can_xcom", _AIRFLOW), dag=_PATH),
    # Browse
    "get_import_errors": _rule(("can_index", _AIRFLOW)),
    "get_import_error": _rule(("can_index", _AIRFLOW)),
    "get_event_logs": _rule(("can_list", _LOGS), dag=_PATH),
    "get_event_log": _rule(("can_show", _LOGS)),
    "get_audit_logs": _rule(("can_list", _AUDIT)),
    "get_sla_misses": _rule(("can_list", _SLA_MISSES), dag=_PATH),
    # Admin
    **_crud(_VARIABLES, "variable"),
    **_crud(_CONNECTIONS, "connection"),
    **_crud(_POOLS, "pool"),
    "get_connection_entries": _rule(("can_list", _CONNECTIONS)),
    "post_connection_entry": _rule(("can_add", _CONNECTIONS)),
    "delete_connection_entry": _rule(("can_delete", _CONNECTIONS)),
    # Security
    "get_users": _rule(("can_list", _USERS)),
    "get_user": _rule(("can_show", _USERS)),
    "post_user": _rule(("can_add", _USERS)),
    "patch_user": _rule(("can_edit", _USERS)),
    "delete_user": _rule(("can_delete", _USERS)),
    "get_roles": _rule(("can_list", _ROLES)),
    "get_role": _rule(("can_show", _ROLES)),
    "post_role": _rule(("can_add", _ROLES)),
    "patch_role": _rule(("can_edit", _ROLES)),
    "delete_role": _rule(("can_delete", _ROLES)),
    "get_permissions": _rule(("can_list", _PERMISSIONS)),
    "get_ldap_config": _rule(("can_show", _LDAP)),
    "put_ldap_config": _rule(("can_edit", _LDAP)),
    # The signed-in user's own account
    "get_me": SIGNED_IN,
    "change_my_password": SIGNED_IN,
    "logout": SIGNED_IN,
    # Live updates: each event is filtered by what the user may read (``couture_gateway.live``).
    "get_live_changes": SIGNED_IN,
}

#: What a user who must change their password may still do.
PASSWORD_CHANGE_ALLOWED = frozenset({"get_me", "change_my_password", "logout"})


def only_readable(column: ColumnElement[Any], readable: frozenset[str] | None) -> list[ColumnElement[bool]]:
    """The clause keeping rows of readable DAGs (``deps.ReadableDags``); none when all are readable."""
    return [] if readable is None else [column.in_(sorted(readable))]
