"""``GET /api/couture/users/me`` tells the UI what the user's roles let them do now, custom roles too."""

from __future__ import annotations

from couture_common.events import UserEdited

from .test_gateway import Harness, harness, signing_key_pem
from .test_rbac import role_body, sign_in

__all__ = ["harness", "signing_key_pem"]

ME = "/api/couture/users/me"


def pairs(me: dict[str, object]) -> set[tuple[str, str]]:
    granted = me["permissions"]
    assert isinstance(granted, dict)
    return {(action, resource) for resource, actions in granted["permissions"].items() for action in actions}


async def test_a_custom_role_is_told_exactly_its_pairs_and_the_dags_it_may_read_and_edit(
    harness: Harness,
) -> None:
    role = role_body(
        "dag-a-readers",
        ("can_list", "DagModelView"),
        ("can_show", "DagModelView"),
        ("can_list", "VariableModelView"),
        ("can_dag_read", "dag_a"),
        ("can_dag_read", "dag_c"),
        ("can_dag_edit", "dag_c"),
    )
    assert (await harness.post("/api/couture/security/roles", json=role)).status_code == 201
    headers = await sign_in(harness, "cora", "dag-a-readers")

    me = (await harness.client.get(ME, headers=headers)).json()
    assert me["username"] == "cora" and me["roles"] == ["dag-a-readers"]
    read_actions = me["permissions"].pop("dag_read_actions")
    # The gateway's split (dag_access_for): listing needs read access to a DAG, triggering edit.
    assert "can_list" in read_actions and "can_log" in read_actions
    assert not {"can_trigger", "can_paused", "can_clear", "can_edit"} & set(read_actions)
    assert me["permissions"] == {
        "everything": False,
        "permissions": {"DagModelView": ["can_list", "can_show"], "VariableModelView": ["can_list"]},
        "dag_read": {"all": False, "dag_ids": ["dag_a", "dag_c"]},
        "dag_edit": {"all": False, "dag_ids": ["dag_c"]},
    }

    # The roles held now, not the ones the token was issued with.
    await harness.append(UserEdited(username="cora", roles=("dag-a-readers", "User")))
    me = (await harness.client.get(ME, headers=headers)).json()
    assert ("can_trigger", "Airflow") in pairs(me)
    assert me["permissions"]["dag_edit"] == {"all": True, "dag_ids": []}


async def test_built_in_roles_get_their_pairs_and_admin_everything(harness: Harness) -> None:
    viewer = (await harness.client.get(ME, headers=await sign_in(harness, "vic", "Viewer"))).json()
    assert ("can_list", "DagRunModelView") in pairs(viewer)
    assert not {
        ("can_trigger", "Airflow"),
        ("can_paused", "Airflow"),
        ("can_list", "VariableModelView"),
    } & pairs(viewer)
    assert viewer["permissions"]["dag_read"] == {"all": True, "dag_ids": []}
    assert viewer["permissions"]["dag_edit"] == {"all": False, "dag_ids": []}

    op = (await harness.client.get(ME, headers=await sign_in(harness, "oscar", "Op"))).json()
    assert {("can_list", "VariableModelView"), ("can_trigger", "Airflow")} <= pairs(op)
    assert ("can_list", "Manage DAGs") not in pairs(op)

    admin = (await harness.get(ME)).json()["permissions"]
    assert admin["everything"] is True
    assert admin["dag_edit"] == {"all": True, "dag_ids": []}

    public = (await harness.client.get(ME, headers=await sign_in(harness, "pat", "Public"))).json()
    assert public["permissions"]["permissions"] == {} and public["permissions"]["everything"] is False
    assert public["permissions"]["dag_read"] == {"all": False, "dag_ids": []}
