"""Airflow 3's bulk requests, resource-agnostic: which actions apply and what each answers.

Each action is all-or-nothing, as in Airflow: with ``fail``, one conflicting entity refuses the
whole action (reported in its ``errors`` with a status code) and the other actions still apply.
The events of every accepted action go to the log in one atomic append.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Generic, TypeVar

from fastapi import status
from pydantic import BaseModel

from couture_common.events import Event
from couture_gateway.schemas.bulk import (
    BulkActionResponse,
    BulkBody,
    BulkCreateAction,
    BulkDeleteAction,
    BulkResponse,
    BulkUpdateAction,
)

T = TypeVar("T", bound=BaseModel)


class BulkRefused(Exception):
    """A single entity cannot be written; the action reports it and is dropped."""

    def __init__(self, detail: str, status_code: int = status.HTTP_400_BAD_REQUEST) -> None:
        super().__init__(detail)
        self.detail = detail
        self.status_code = status_code


class BulkPlan(Generic[T]):
    """What a resource contributes: keys, the events of a write / delete, and its own checks."""

    def __init__(
        self,
        *,
        noun: str,
        existing: set[str],
        key: Callable[[T], str],
        write: Callable[[T, bool, list[str] | None], list[Event]],
        delete: Callable[[str], list[Event]],
    ) -> None:
        self.noun = noun
        self.existing = set(existing)
        self.key = key
        self.write = write
        self.delete = delete

    def apply(self, body: BulkBody[T]) -> tuple[BulkResponse, list[Event]]:
        response = BulkResponse()
        events: list[Event] = []
        for action in body.actions:
            before = set(self.existing)
            try:
                result, action_events = self._action(action)
            except BulkRefused as refused:
                self.existing = before
                result = BulkActionResponse(
                    errors=[{"error": refused.detail, "status_code": refused.status_code}]
                )
                action_events = []
            events += action_events
            setattr(response, action.action, result)
        return response, events

    def _action(
        self, action: BulkCreateAction[T] | BulkUpdateAction[T] | BulkDeleteAction[T]
    ) -> tuple[BulkActionResponse, list[Event]]:
        done: list[str] = []
        events: list[Event] = []
        if isinstance(action, BulkCreateAction):
            clash = [self.key(e) for e in action.entities if self.key(e) in self.existing]
            if clash and action.action_on_existence == "fail":
                raise BulkRefused(
                    f"The {self.noun}s with these keys: {clash} already exist.", status.HTTP_409_CONFLICT
                )
            for entity in action.entities:
                key = self.key(entity)
                if key in self.existing and action.action_on_existence == "skip":
                    continue
                events += self.write(entity, key in self.existing, None)
                self.existing.add(key)
                done.append(key)
        elif isinstance(action, BulkUpdateAction):
            missing = [self.key(e) for e in action.entities if self.key(e) not in self.existing]
            if missing and action.action_on_non_existence == "fail":
                raise BulkRefused(
                    f"The {self.noun}s with these keys: {missing} were not found.", status.HTTP_404_NOT_FOUND
                )
            for entity in action.entities:
                key = self.key(entity)
                if key in self.existing:
                    events += self.write(entity, True, action.update_mask)
                    done.append(key)
        else:
            keys = [e if isinstance(e, str) else self.key(e) for e in action.entities]
            missing = [k for k in keys if k not in self.existing]
            if missing and action.action_on_non_existence == "fail":
                raise BulkRefused(
                    f"The {self.noun}s with these keys: {missing} were not found.", status.HTTP_404_NOT_FOUND
                )
            for key in keys:
                if key in self.existing:
                    events += self.delete(key)
                    self.existing.discard(key)
                    done.append(key)
        return BulkActionResponse(success=done), events
