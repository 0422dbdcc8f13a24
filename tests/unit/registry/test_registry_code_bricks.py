"""What makes a valid code brick."""

from __future__ import annotations

import pytest

from couture_registry.code_bricks import MAX_CODE_BYTES, InvalidCodeBrickError, check_code_brick


def test_the_title_is_trimmed_and_the_code_kept_as_written() -> None:
    assert check_code_brick("  Spark task ", "  t = SparkOperator()\n") == (
        "Spark task",
        "  t = SparkOperator()\n",
    )


@pytest.mark.parametrize(
    ("title", "code", "field", "reason"),
    [
        ("  ", "x = 1", "title", "the title is empty"),
        ("t" * 201, "x = 1", "title", "longer than 200"),
        ("Brick", " \n", "code", "the code is empty"),
        ("Brick", "x" * (MAX_CODE_BYTES + 1), "code", "larger than"),
    ],
)
def test_a_bad_brick_names_the_field_at_fault(title: str, code: str, field: str, reason: str) -> None:
    with pytest.raises(InvalidCodeBrickError, match=reason) as refused:
        check_code_brick(title, code)
    assert refused.value.field == field
