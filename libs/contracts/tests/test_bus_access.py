"""The bus permissions: every durable has exactly one owning service, every event has a
publisher allowed to send it, and no service may delete or purge a stream."""

from __future__ import annotations

import json
from collections import Counter

import pytest

from cauce_contracts.bus_access import ACCESS, main, permissions, render
from cauce_contracts.registry import ALL_EVENTS, subject_pattern
from cauce_contracts.streams import SUBSCRIPTIONS
from cauce_contracts.subjects import subject_matches

SERVICES = [access for name, access in ACCESS.items() if name != "provisioning"]


def test_every_durable_is_read_by_exactly_one_service() -> None:
    owners = Counter(s.durable_name for a in SERVICES for s in a.durables())
    assert set(owners) == {s.durable_name for s in SUBSCRIPTIONS}
    assert set(owners.values()) == {1}


def test_every_event_has_a_service_allowed_to_publish_it() -> None:
    for access in SERVICES:  # dead letters: each consumer, of its own durables only
        allowed = permissions(access)["publish"]["allow"]
        for durable in access.durables():
            assert f"dlq.{durable.stream}.{durable.durable_name}" in allowed
    for event_type in set(ALL_EVENTS) - {"dlq.dead_lettered"}:
        subject = subject_pattern(event_type).replace("{", "").replace("}", "")
        allowed = [
            a.service
            for a in SERVICES
            if any(subject_matches(p, subject) for p in permissions(a)["publish"]["allow"])
        ]
        assert allowed, event_type


def test_no_service_may_delete_or_purge_an_event_stream() -> None:
    for access in ACCESS.values():
        for subject in permissions(access)["publish"]["allow"]:
            assert ".DELETE." not in subject or subject.startswith(
                (
                    "$JS.API.CONSUMER.DELETE.KV_",
                    "$JS.API.CONSUMER.DELETE.OBJ_",
                    "$JS.API.CONSUMER.DELETE.INBOX",
                )
            ), (access.service, subject)
            assert ".PURGE." not in subject or subject.endswith(".OBJ_media"), subject
            assert subject != ">"


def test_the_gateway_cannot_request_a_message_to_a_customer() -> None:
    allowed = permissions(ACCESS["gateway"])["publish"]["allow"]
    assert not any(subject_matches(p, "outbound.message.requested.t.whatsapp.k") for p in allowed)
    assert any(subject_matches(p, "inbound.message.received.t.whatsapp.k") for p in allowed)


def test_an_unknown_service_is_refused_and_the_cli_renders_json(
    tmp_path: pytest.TempPathFactory, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(ValueError, match="webhooks"):
        render({"webhooks": "U" + "A" * 55})
    keys = tmp_path / "keys.json"  # type: ignore[operator]
    keys.write_text(json.dumps({"gateway": "UGATEWAY", "admins": ["UADMIN"]}))
    assert main([str(keys)]) == 0
    printed = capsys.readouterr().out
    block = json.loads(printed.removeprefix("authorization:"))
    assert [u["nkey"] for u in block["users"]] == ["UGATEWAY", "UADMIN"]
    assert "permissions" not in block["users"][1]  # an admin may do anything
