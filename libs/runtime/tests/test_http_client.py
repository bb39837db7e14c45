"""Provider calls are CLIENT spans that pass the trace on in ``traceparent``."""

from __future__ import annotations

import json
from pathlib import Path

import httpx
import pytest
from opentelemetry import trace
from prometheus_client import REGISTRY, generate_latest

from cauce_runtime import ServiceSettings, setup_telemetry, traced_http_client
from cauce_runtime.calls import safe_url


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
    telemetry.shutdown()  # later tests' spans are not written here
    spans = [json.loads(line) for line in (tmp_path / "spans.jsonl").read_text().splitlines()]
    [client] = [s for s in spans if s["kind"] == "CLIENT" and s["trace_id"] == trace_id]
    assert client["parent_span_id"] == format(parent.get_span_context().span_id, "016x")
    assert client["attributes"]["http.response.status_code"] == 200
    assert client["attributes"]["url.full"] == (
        "https://graph.example/v23.0/100000000000001/messages?access_token=REDACTED"
    )
    assert client["attributes"]["server.address"] == "graph.example"
    assert client["attributes"]["server.port"] == 443
    assert client["attributes"]["http.request.method"] == "POST"
    text = json.dumps(client)
    assert "SECRET" not in text and "573001234567" not in text


async def test_a_failed_call_records_its_error_type_and_latency(tmp_path: Path) -> None:
    telemetry = setup_telemetry(
        ServiceSettings(environment="test", span_file=tmp_path / "spans.jsonl", _env_file=None)  # type: ignore[call-arg]
    )

    def refuse(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("refused: token=SECRET", request=request)

    def unavailable(request: httpx.Request) -> httpx.Response:
        return httpx.Response(503)

    tracer = trace.get_tracer("test")
    with tracer.start_as_current_span("handle message") as parent:
        async with traced_http_client(transport=httpx.MockTransport(refuse)) as http:
            with pytest.raises(httpx.ConnectError):
                await http.get("http://provider.example/down")
        async with traced_http_client(transport=httpx.MockTransport(unavailable)) as http:
            assert (await http.get("http://provider.example/busy")).status_code == 503
    assert telemetry.force_flush()
    telemetry.shutdown()  # later tests' spans are not written here
    trace_id = format(parent.get_span_context().trace_id, "032x")
    spans = [json.loads(line) for line in (tmp_path / "spans.jsonl").read_text().splitlines()]
    clients = {
        s["attributes"]["url.full"]: s
        for s in spans
        if s["kind"] == "CLIENT" and s["trace_id"] == trace_id
    }
    down = clients["http://provider.example/down"]
    assert down["attributes"]["error.type"] == "ConnectError"
    assert down["status"]["code"] == "ERROR"
    assert "SECRET" not in json.dumps(down)  # the exception event is masked too
    busy = clients["http://provider.example/busy"]
    assert busy["attributes"]["error.type"] == "503"
    assert busy["attributes"]["http.response.status_code"] == 503
    assert 'server_address="provider.example"' in generate_latest(REGISTRY).decode()


@pytest.mark.parametrize(
    ("url", "shown"),
    [
        ("https://graph.example/v23.0/1/messages", "https://graph.example/v23.0/1/messages"),
        (
            "https://u:p@api.example:8443/a?token=t&x=1#frag",
            "https://api.example:8443/a?token=REDACTED&x=REDACTED",
        ),
        ("https://api.example/a#frag", "https://api.example/a"),
        ("https://user@api.example/a", "https://api.example/a"),
    ],
)
def test_a_spans_url_keeps_no_credentials_query_values_or_fragment(url: str, shown: str) -> None:
    assert safe_url(httpx.URL(url)) == shown
