"""Bulk requests: which events each action produces, and what it answers."""

from __future__ import annotations

from couture_common.events import Event, PoolDeleted, PoolSet
from couture_gateway.api.bulk import BulkPlan
from couture_gateway.schemas.bulk import BulkBody
from couture_gateway.schemas.pools import PoolBody


def _plan(existing: set[str]) -> BulkPlan[PoolBody]:
    def write(entity: PoolBody, exists: bool, mask: list[str] | None) -> list[Event]:
        return [PoolSet(name=entity.name, slots=entity.slots)]

    return BulkPlan(
        noun="pool",
        existing=existing,
        key=lambda e: e.name,
        write=write,
        delete=lambda name: [PoolDeleted(name=name)],
    )


def _body(*actions: dict[str, object]) -> BulkBody[PoolBody]:
    return BulkBody[PoolBody].model_validate({"actions": list(actions)})


def test_create_skips_or_overwrites_existing_entities_as_asked() -> None:
    entities = [{"name": "a", "slots": 1}, {"name": "b", "slots": 2}]
    skipped, events = _plan({"a"}).apply(
        _body({"action": "create", "entities": entities, "action_on_existence": "skip"})
    )
    assert skipped.create is not None and skipped.create.success == ["b"]
    assert events == [PoolSet(name="b", slots=2)]
    overwritten, events = _plan({"a"}).apply(
        _body({"action": "create", "entities": entities, "action_on_existence": "overwrite"})
    )
    assert overwritten.create is not None and overwritten.create.success == ["a", "b"]
    assert len(events) == 2


def test_a_refused_action_changes_nothing_and_later_actions_see_earlier_ones() -> None:
    response, events = _plan(set()).apply(
        _body(
            {"action": "create", "entities": [{"name": "a", "slots": 1}]},
            {"action": "update", "entities": [{"name": "ghost", "slots": 1}]},
            {"action": "delete", "entities": ["a"]},
        )
    )
    assert response.update is not None
    assert response.update.errors == [
        {"error": "The pools with these keys: ['ghost'] were not found.", "status_code": 404}
    ]
    assert response.delete is not None and response.delete.success == ["a"]
    assert events == [PoolSet(name="a", slots=1), PoolDeleted(name="a")]
