"""What an audit record says about where a request came from and what it touched."""

from __future__ import annotations

from couture_common.settings import Settings
from couture_gateway.api.audit_trail import describe_target, outcome_for, source_ip

PROXIES = Settings(trusted_proxies="10.0.0.0/8, 192.168.1.5").trusted_proxies


def test_a_direct_client_is_its_peer_whatever_it_forwards() -> None:
    assert source_ip("198.51.100.7", ["203.0.113.9"], PROXIES) == "198.51.100.7"
    assert source_ip("198.51.100.7", [], ()) == "198.51.100.7"


def test_behind_trusted_proxies_the_client_is_the_last_untrusted_hop() -> None:
    # The client may prepend anything; only what trusted proxies appended is believed.
    forwarded = ["1.2.3.4, 203.0.113.9", "10.1.1.1"]
    assert source_ip("192.168.1.5", forwarded, PROXIES) == "203.0.113.9"
    assert source_ip("10.0.0.2", ["10.0.0.3"], PROXIES) == "10.0.0.3"
    assert source_ip("10.0.0.2", [], PROXIES) == "10.0.0.2"
    assert source_ip("10.0.0.2", ["not-an-ip"], PROXIES) is None


def test_outcomes() -> None:
    assert [outcome_for(s) for s in (200, 204, 401, 403, 429, 404, 422, 500)] == [
        "success",
        "success",
        "denied",
        "denied",
        "denied",
        "failed",
        "failed",
        "error",
    ]
    assert outcome_for(401, login=True) == "failed"


def test_the_target_names_ids_never_values() -> None:
    body = b'{"key": "db_password", "value": "hunter2", "password": "x", "dag_id": "etl"}'
    assert describe_target({}, body) == ("etl", "key=db_password")
    assert describe_target({"dag_id": "etl", "dag_run_id": "r1"}, b"not json") == ("etl", "dag_run_id=r1")
    assert describe_target({}, b"[1, 2]") == (None, None)
