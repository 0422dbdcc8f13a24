"""Variables and connections as the config topic states them; secrets stay encrypted in the view."""

from __future__ import annotations

from couture_common.config_view import ConfigView
from couture_common.events import ConnectionDeleted, ConnectionSet, VariableDeleted, VariableSet


def entry(entry_id: str, conn_id: str = "warehouse", host: str = "db1") -> ConnectionSet:
    return ConnectionSet(
        entry_id=entry_id, conn_id=conn_id, conn_type="postgres", host=host, password="token"
    )


def first(entries: object) -> ConnectionSet:
    return entries[0]  # type: ignore[index, no-any-return]


def last(entries: object) -> ConnectionSet:
    return entries[-1]  # type: ignore[index, no-any-return]


def test_variables_keep_their_latest_token_until_deleted() -> None:
    view = ConfigView()
    view.apply(VariableSet(key="env", value="token-1"))
    view.apply(VariableSet(key="env", value="token-2"))
    assert view.variable_token("env") == "token-2"
    view.apply(VariableDeleted(key="env"))
    assert view.variable_token("env") is None


def test_a_connection_is_chosen_among_all_entries_of_its_conn_id() -> None:
    view = ConfigView()
    view.apply(entry("e2", host="db2"))
    view.apply(entry("e1", host="db1"))
    view.apply(entry("e3", conn_id="other"))
    assert first_host(view, first) == "db1"
    assert first_host(view, last) == "db2"


def test_an_entry_moved_to_another_conn_id_leaves_the_old_one() -> None:
    view = ConfigView()
    view.apply(entry("e1"))
    view.apply(entry("e1", conn_id="moved"))
    assert view.connection("warehouse", first) is None
    assert view.connection("moved", first) is not None


def test_deleting_the_last_entry_removes_the_connection() -> None:
    view = ConfigView()
    view.apply(entry("e1"))
    view.apply(ConnectionDeleted(entry_id="e1", conn_id="warehouse"))
    assert view.connection("warehouse", first) is None


def first_host(view: ConfigView, choose: object) -> str | None:
    chosen = view.connection("warehouse", choose)  # type: ignore[arg-type]
    assert chosen is not None
    return chosen.host
