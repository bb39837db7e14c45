"""``post_json``: a provider's send through the traced client's transport sends what
``client.post`` would, traced, within the client's timeout, with the same errors."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import httpx
import pytest
from opentelemetry import trace

from cauce_runtime import ServiceSettings, setup_telemetry, traced_http_client
from cauce_runtime.calls import post_json

URL = "https://graph.example/v23.0/100000000000001/messages"
PAYLOAD = {"messaging_product": "whatsapp", "to": "+573001234567", "type": "text"}


class Provider:
    """A mock provider that keeps what it was sent."""

    def __init__(self) -> None:
        self.requests: list[httpx.Request] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        return httpx.Response(200, json={"messages": [{"id": "wamid.1"}]})


def _sent(request: httpx.Request) -> dict[str, Any]:
    headers = {k: v for k, v in request.headers.items() if k != "traceparent"}
    return {
        "method": request.method,
        "url": str(request.url),
        "headers": headers,
        "body": json.loads(request.content),
        "timeout": request.extensions["timeout"],
    }


async def test_the_direct_send_is_the_request_client_post_makes(tmp_path: Path) -> None:
    telemetry = setup_telemetry(
        ServiceSettings(environment="test", span_file=tmp_path / "spans.jsonl", _env_file=None)  # type: ignore[call-arg]
    )
    direct, posted = Provider(), Provider()
    timeout = httpx.Timeout(3.0, read=7.0)
    headers = {"Authorization": "Bearer TOKEN"}
    async with (
        traced_http_client(transport=httpx.MockTransport(direct), timeout=timeout) as traced,
        httpx.AsyncClient(transport=httpx.MockTransport(posted), timeout=timeout) as plain,
    ):
        with trace.get_tracer("test").start_as_current_span("send") as parent:
            answer = await post_json(traced, URL, PAYLOAD, headers=headers)
        await post_json(plain, URL, PAYLOAD, headers=headers)

    assert answer.status_code == 200 and answer.json()["messages"][0]["id"] == "wamid.1"
    assert answer.request.url == URL
    [sent], [expected] = direct.requests, posted.requests
    assert _sent(sent) == _sent(expected)
    assert sent.extensions["timeout"]["read"] == 7.0
    trace_id = format(parent.get_span_context().trace_id, "032x")
    assert sent.headers["traceparent"].split("-")[1] == trace_id
    assert telemetry.force_flush()
    telemetry.shutdown()
    spans = [json.loads(line) for line in (tmp_path / "spans.jsonl").read_text().splitlines()]
    [client] = [s for s in spans if s["kind"] == "CLIENT" and s["trace_id"] == trace_id]
    assert client["attributes"]["http.response.status_code"] == 200


async def test_a_transport_error_reaches_the_caller_as_the_transport_raised_it() -> None:
    def refuse(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("refused", request=request)

    async with traced_http_client(transport=httpx.MockTransport(refuse)) as traced:
        with pytest.raises(httpx.ConnectError):
            await post_json(traced, URL, PAYLOAD, headers={})
