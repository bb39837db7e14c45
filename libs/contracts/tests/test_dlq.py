from __future__ import annotations

import json
import uuid

from cauce_contracts import DeadLettered, parse_event
from cauce_contracts.dlq import DLQ_HEADERS, MAX_ORIGINAL_PAYLOAD, REASON_MAX_DELIVERIES
from cauce_contracts.envelope import SYSTEM_TENANT_ID


def _record(payload: bytes = b'{"broken": true}', **extra: object) -> DeadLettered:
    arguments: dict[str, object] = {
        "payload": payload,
        "original_subject": "crm.contact.upserted.acme.123",
        "stream": "CRM",
        "consumer": "crm-sync-contacts",
        "stream_sequence": 7,
        "delivery_count": 6,
        "reason": REASON_MAX_DELIVERIES,
        "error_type": "TimeoutError",
        "headers": {"Nats-Msg-Id": "manychat:123", "traceparent": "00-abc-def-01"},
        **extra,
    }
    return DeadLettered.for_message(**arguments)  # type: ignore[arg-type]


def test_record_keeps_original_bytes_and_headers() -> None:
    payload = bytes(range(256))  # not UTF-8: base64 keeps it exact
    record = _record(payload)
    decoded = parse_event(record.model_dump_json().encode())
    assert isinstance(decoded, DeadLettered)
    assert decoded.original_payload == payload
    assert decoded.original_headers["traceparent"] == "00-abc-def-01"
    assert decoded.tenant_id == SYSTEM_TENANT_ID
    assert record.subject() == "dlq.CRM.crm-sync-contacts"


def test_same_delivery_gives_same_event_id() -> None:
    assert _record().event_id == _record().event_id
    assert _record().event_id != _record(stream_sequence=8).event_id


def test_oversized_payload_truncated_and_flagged() -> None:
    record = _record(b"x" * (MAX_ORIGINAL_PAYLOAD + 10))
    assert record.original_truncated
    assert len(record.original_payload) == MAX_ORIGINAL_PAYLOAD
    assert len(record.model_dump_json()) < 1024 * 1024  # fits NATS' default max payload


def test_headers_are_single_line_and_complete() -> None:
    original = uuid.uuid4()
    record = _record(
        reason="line one\nline two\r\n  three", original_event_id=original, tenant_id="acme"
    )
    headers = record.dlq_headers()
    assert set(headers) == set(DLQ_HEADERS)
    assert headers["Cauce-Dlq-Reason"] == "line one line two three"
    assert headers["Cauce-Dlq-Delivery-Count"] == "6"
    assert all("\n" not in value and "\r" not in value for value in headers.values())
    assert record.causation_id == str(original)
    assert json.loads(record.model_dump_json())["tenant_id"] == "acme"
