"""The six roles grant exactly the manual's permission sets; custom roles reach single DAGs."""

from __future__ import annotations

from couture_auth.domain.permissions import (
    BUILTIN_ROLES,
    OP_PERMS,
    OP_VMS,
    USER_PERMS,
    VIEWER_PERMS,
    VIEWER_VMS,
    Principal,
    can,
    readable_dags,
)
from couture_auth.domain.users import fold
from couture_common.events import RoleDeleted, RoleSet, UserCreated, UserDeactivated, UserEdited


def as_role(*names: str) -> Principal:
    return Principal("someone", tuple(BUILTIN_ROLES[n] for n in names))


def test_viewer_holds_every_viewer_permission_on_every_viewer_view_and_nothing_else() -> None:
    viewer = as_role("Viewer")
    assert all(can(viewer, p, vm) for p in VIEWER_PERMS for vm in VIEWER_VMS)
    assert not any(can(viewer, p, vm) for p in USER_PERMS for vm in VIEWER_VMS)
    assert not any(can(viewer, p, vm) for p in VIEWER_PERMS for vm in OP_VMS)
    assert can(viewer, "can_log", "Airflow", dag_id="etl")
    assert not can(viewer, "can_trigger", "Airflow", dag_id="etl")


def test_user_adds_the_user_permissions_on_the_same_views() -> None:
    user = as_role("User")
    assert all(can(user, p, vm) for p in VIEWER_PERMS | USER_PERMS for vm in VIEWER_VMS)
    assert can(user, "can_trigger", "Airflow", dag_id="etl")
    assert not any(can(user, p, vm) for p in OP_PERMS for vm in VIEWER_VMS | OP_VMS)
    assert not can(user, "can_add", "VariableModelView")


def test_op_adds_op_permissions_and_the_admin_views() -> None:
    op = as_role("Op")
    every = VIEWER_PERMS | USER_PERMS | OP_PERMS
    assert all(can(op, p, vm) for p in every for vm in VIEWER_VMS | OP_VMS)
    assert not can(op, "can_add", "RoleModelView")
    assert not can(op, "can_list", "UserDBModelView")


def test_developer_is_user_plus_the_developer_menu() -> None:
    developer, user = as_role("Developer"), as_role("User")
    assert all(can(developer, p, vm) for p in VIEWER_PERMS | USER_PERMS for vm in VIEWER_VMS)
    assert can(developer, "can_edit", "Manage DAGs") and not can(user, "can_edit", "Manage DAGs")
    assert can(developer, "can_list", "Jupyter Notebook") and can(developer, "can_add", "Code Artifacts")
    assert not can(developer, "can_add", "VariableModelView")


def test_admin_may_do_anything_and_public_nothing() -> None:
    assert can(as_role("Admin"), "can_anything", "AnyView", dag_id="any")
    assert not can(as_role("Public"), "can_index", "Airflow")
    assert readable_dags(as_role("Public")) == frozenset()
    assert readable_dags(as_role("Viewer")) is None


def test_a_custom_role_reads_one_dag_and_edits_another() -> None:
    directory = fold(
        [
            RoleSet(
                name="team-a",
                permissions=(
                    ("can_list", "DagModelView"),
                    ("can_trigger", "Airflow"),
                    ("can_dag_read", "etl"),
                    ("can_dag_read", "report"),
                    ("can_dag_edit", "report"),
                ),
            ),
            UserCreated(username="ana", password_hash="h", roles=("team-a", "Public")),
        ]
    )
    ana = directory.principal("ana")
    assert ana is not None
    assert ana.role_names == ("team-a", "Public")
    assert can(ana, "can_list", "DagModelView", dag_id="etl")
    assert not can(ana, "can_list", "DagModelView", dag_id="payroll")
    assert can(ana, "can_trigger", "Airflow", dag_id="report")
    assert not can(ana, "can_trigger", "Airflow", dag_id="etl")
    assert readable_dags(ana) == frozenset({"etl", "report"})


def test_roles_apply_as_they_are_now_and_deactivated_users_have_none() -> None:
    created = [
        RoleSet(name="readers", permissions=(("can_list", "DagModelView"),)),
        UserCreated(username="bo", password_hash="h", roles=("readers",)),
    ]
    bo = fold(created).principal("bo")
    assert bo is not None and can(bo, "can_list", "DagModelView")

    emptied = fold([*created, RoleSet(name="readers", permissions=())]).principal("bo")
    assert emptied is not None and not can(emptied, "can_list", "DagModelView")
    deleted = fold([*created, RoleDeleted(name="readers")]).principal("bo")
    assert deleted is not None and deleted.roles == ()
    promoted = fold([*created, UserEdited(username="bo", roles=("Op",))]).principal("bo")
    assert promoted is not None and can(promoted, "can_add", "VariableModelView")
    assert fold([*created, UserDeactivated(username="bo")]).principal("bo") is None


def test_built_in_roles_cannot_be_redefined_by_an_event() -> None:
    directory = fold([RoleSet(name="Viewer", permissions=(("can_add", "VariableModelView"),))])
    assert directory.role("Viewer") == BUILTIN_ROLES["Viewer"]


def test_folding_on_from_a_directory_without_users_keeps_its_roles() -> None:
    roles_only = fold([RoleSet(name="readers", permissions=(("can_list", "DagModelView"),))])
    directory = fold([UserCreated(username="bo", password_hash="h", roles=("readers",))], roles_only)
    bo = directory.principal("bo")
    assert bo is not None and bo.role_names == ("readers",)
