"""Provider calls are CLIENT spans that pass the trace on in ``traceparent``."""

from __future__ import annotations

import json
from pathlib import Path

import httpx
from opentelemetry import trace

from cauce_runtime.http_client import traced_http_client
from cauce_runtime.settings import ServiceSettings
from cauce_runtime.telemetry import setup_telemetry


async def test_calls_are_client_spans_and_carry_the_trace(tmp_path: Path) -> None:
    telemetry = setup_telemetry(
        ServiceSettings(environment="test", span_file=tmp_path / "spans.jsonl", _env_file=None)  # type: ignore[call-arg]
    )
    seen: dict[str, str] = {}

    def provider(request: httpx.Request) -> httpx.Response:
        seen.update(request.headers)
        return httpx.Response(200, json={"ok": True})

    tracer = trace.get_tracer("test")
    async with traced_http_client(transport=httpx.MockTransport(provider)) as http:
        with tracer.start_as_current_span("handle message") as parent:
            response = await http.post(
                "https://graph.example/v23.0/100000000000001/messages?access_token=SECRET",
                json={"to": "573001234567"},
            )
    assert response.status_code == 200
    trace_id = format(parent.get_span_context().trace_id, "032x")
    assert seen["traceparent"].split("-")[1] == trace_id
    assert telemetry.force_flush()
    spans = [json.loads(line) for line in (tmp_path / "spans.jsonl").read_text().splitlines()]
    [client] = [s for s in spans if s["kind"] == "CLIENT" and s["trace_id"] == trace_id]
    assert client["parent_span_id"] == format(parent.get_span_context().span_id, "016x")
    assert client["attributes"]["http.response.status_code"] == 200
    assert client["attributes"]["url.path"] == "/v23.0/100000000000001/messages"
    text = json.dumps(client)
    assert "SECRET" not in text and "573001234567" not in text
