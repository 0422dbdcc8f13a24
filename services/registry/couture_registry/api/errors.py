"""Errors in the shapes the rest of the API uses (FastAPI's validation errors, ``{"detail": ...}``)."""

from __future__ import annotations

from collections.abc import Sequence

from fastapi import HTTPException, status


def invalid(loc: Sequence[str | int], message: str) -> HTTPException:
    """422 naming the field at fault, shaped like FastAPI's own request-validation errors."""
    return invalid_many([(loc, message)])


def invalid_many(problems: Sequence[tuple[Sequence[str | int], str]]) -> HTTPException:
    return HTTPException(
        status.HTTP_422_UNPROCESSABLE_CONTENT,
        detail=[{"loc": list(loc), "msg": message, "type": "value_error"} for loc, message in problems],
    )


def not_found(message: str) -> HTTPException:
    return HTTPException(status.HTTP_404_NOT_FOUND, detail=message)


def conflict(message: str) -> HTTPException:
    return HTTPException(status.HTTP_409_CONFLICT, detail=message)
