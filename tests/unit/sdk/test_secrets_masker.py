from __future__ import annotations

import io

from couture_sdk.secrets_masker import MaskingStream, SecretsMasker


def test_registered_secrets_are_redacted_longest_first() -> None:
    masker = SecretsMasker()
    masker.add("hunter2")
    masker.add("hunter22-long")
    assert masker.redact("a hunter22-long b hunter2 c") == "a *** b *** c"


def test_short_values_and_ordinary_keys_are_left_alone() -> None:
    masker = SecretsMasker()
    masker.add("abc")
    masker.add_variable("table_list", "orders,customers")
    assert masker.redact("abc orders,customers") == "abc orders,customers"


def test_a_sensitive_json_variable_hides_each_string_inside() -> None:
    masker = SecretsMasker()
    masker.add_variable("db_credentials_secret", '{"user": "reporting", "password": "pa55word!"}')
    assert masker.redact("user=reporting password=pa55word!") == "user=*** password=***"


def test_masking_stream_redacts_before_writing() -> None:
    masker = SecretsMasker()
    masker.add("s3cr3t-token")
    target = io.StringIO()
    stream = MaskingStream(target, masker)
    assert stream.write("token is s3cr3t-token\n") == len("token is s3cr3t-token\n")
    assert target.getvalue() == "token is ***\n"
