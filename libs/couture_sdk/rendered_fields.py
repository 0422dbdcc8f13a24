"""A try's rendered template fields as the UI shows them (Airflow's ``rendered_fields``).

What a task renders can hold the secrets it read (``{{ var.value.api_key }}``, a connection's
password): every string is passed through the secrets masker first, and a value under a
secret-looking key (an ``env`` entry named ``DB_PASSWORD``) is masked whole. Then each field is
capped, so one try's record stays small whatever a template expands to; masking comes first so
a cut can never leave part of a secret visible.
"""

from __future__ import annotations

import json
from typing import Any

from couture_common.secrets import MASK, is_sensitive_key
from couture_sdk._spec import json_safe
from couture_sdk.baseoperator import BaseOperator
from couture_sdk.secrets_masker import MASKER, SecretsMasker

#: Airflow's ``[core] max_templated_field_length`` default: longer fields are cut to this size.
MAX_FIELD_LENGTH = 4096
TRUNCATED = "Truncated: the rendered value is longer than {limit} characters. "


def rendered_fields(task: BaseOperator, masker: SecretsMasker = MASKER) -> dict[str, Any]:
    """The task's template fields as JSON data, masked and capped (call after rendering)."""
    return {
        field: _capped(_masked(json_safe(getattr(task, field, None)), masker))
        for field in task.template_fields
    }


def _masked(value: Any, masker: SecretsMasker) -> Any:
    if isinstance(value, str):
        return masker.redact(value)
    if isinstance(value, dict):
        return {
            key: MASK if is_sensitive_key(key) and item is not None else _masked(item, masker)
            for key, item in value.items()
        }
    if isinstance(value, list):
        return [_masked(item, masker) for item in value]
    return value


def _capped(value: Any) -> Any:
    text = value if isinstance(value, str) else json.dumps(value)
    if len(text) <= MAX_FIELD_LENGTH:
        return value
    prefix = TRUNCATED.format(limit=MAX_FIELD_LENGTH)
    return prefix + text[: MAX_FIELD_LENGTH - len(prefix)]
