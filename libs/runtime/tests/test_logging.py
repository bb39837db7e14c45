"""Logs: JSON lines with service and trace ids, phone numbers and secrets masked."""

from __future__ import annotations

import io
import json
import logging
from collections.abc import Iterator

import pytest
from opentelemetry import trace

from cauce_runtime import ServiceSettings, setup_telemetry
from cauce_runtime.telemetry._logs import (
    build_handler,
    configure_logging,
    mask_phone,
    mask_sensitive,
)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("+573001234567", "+57******4567"),
        ("573001234567", "57******4567"),
        ("call 30012345 now", "call 30**2345 now"),
        ("+57 300 123 4567", "+57******4567"),
        ("wa_id=14155550100.", "wa_id=14*****0100."),
    ],
)
def test_mask_phone(text: str, expected: str) -> None:
    assert mask_phone(text) == expected


@pytest.mark.parametrize(
    "text",
    [
        "trace 4bf92f3577b34da6a3ce929d0e0e4736",
        "event 6f1d2c8e-3a55-4c1e-9a62-0c4a7f1d2b10",
        "on 2026-01-15 at 10:30",
        "seq 1234567",
    ],
)
def test_mask_phone_leaves_ids_dates_and_short_numbers(text: str) -> None:
    assert mask_phone(text) == text


def test_mask_secrets() -> None:
    masked = mask_sensitive("Authorization: Bearer EAAGm0PX4ZCpsBA token=abc123 api_key: zz9")
    assert "EAAGm0PX4ZCpsBA" not in masked and "abc123" not in masked and "zz9" not in masked
    assert "Bearer ***" in masked


@pytest.fixture
def json_logger() -> Iterator[tuple[logging.Logger, io.StringIO]]:
    stream = io.StringIO()
    logger = logging.getLogger("cauce.test.json")
    handler = build_handler("svc-test", stream)
    logger.addHandler(handler)
    logger.setLevel(logging.INFO)
    logger.propagate = False
    yield logger, stream
    logger.removeHandler(handler)


def lines(stream: io.StringIO) -> list[dict[str, object]]:
    return [json.loads(line) for line in stream.getvalue().splitlines()]


def test_records_are_json_with_service_and_trace_ids(json_logger, tmp_path) -> None:  # type: ignore[no-untyped-def]
    logger, stream = json_logger
    setup_telemetry(ServiceSettings(span_file=tmp_path / "s.jsonl", _env_file=None))
    with trace.get_tracer("test").start_as_current_span("work") as span:
        logger.info("message from %s", "+573001234567", extra={"contact": "573009876543"})
    logger.info("outside any span")
    inside, outside = lines(stream)
    ctx = span.get_span_context()
    assert inside["trace_id"] == f"{ctx.trace_id:032x}"
    assert inside["span_id"] == f"{ctx.span_id:016x}"
    assert inside["service"] == "svc-test"
    assert inside["level"] == "INFO"
    assert inside["message"] == "message from +57******4567"
    assert inside["contact"] == "57******6543"
    assert outside["trace_id"] is None
    assert "3001234567" not in stream.getvalue() and "3009876543" not in stream.getvalue()


def test_tracebacks_are_masked(json_logger) -> None:  # type: ignore[no-untyped-def]
    logger, stream = json_logger
    try:
        raise ValueError("no conversation for +573001234567 (Bearer sk_live_abcdef)")
    except ValueError:
        logger.exception("failed")
    text = stream.getvalue()
    assert "3001234567" not in text and "sk_live_abcdef" not in text
    assert "+57******4567" in lines(stream)[0]["exc_info"]  # type: ignore[operator]


def test_configure_logging_routes_root_to_json(tmp_path) -> None:  # type: ignore[no-untyped-def]
    root = logging.getLogger()
    saved_handlers, saved_level = list(root.handlers), root.level
    stream = io.StringIO()
    try:
        configure_logging(
            ServiceSettings(service_name="gw", log_level="warning", _env_file=None), stream
        )
        logging.getLogger("some.module").warning("sent to %s", 14155550100)
        logging.getLogger("some.module").info("filtered by level")
    finally:
        root.handlers[:] = saved_handlers
        root.setLevel(saved_level)
    [record] = lines(stream)
    assert record["message"] == "sent to 14*****0100"
    assert record["service"] == "gw"
    assert record["logger"] == "some.module"
