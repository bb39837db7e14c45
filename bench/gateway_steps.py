"""Where a webhook's microseconds go: each step of the gateway's work, timed alone.

Part of ``python -m bench gateway``. Each step runs in this process, in a loop, on the
same signed one-message webhook the load sends: verifying the signature, parsing it,
building the typed event (contact key, subject, stable id), serialising it, recording
the three metric samples a webhook makes, creating and ending the two spans of a traced
webhook (server and producer) and writing them as the span file does. The sum is the
gateway's own work; the rest of a webhook's CPU (the load runs measure it) is the web
server, asyncio and nats-py, which the bare-ASGI peer pays too.
"""

from __future__ import annotations

import timeit
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime

from opentelemetry import trace
from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.trace import SpanKind
from pydantic_core import to_json

from bench.load import PHONE_NUMBER_ID, build_bodies
from cauce_contracts.subjects import Channel
from cauce_gateway.authenticity import verify_meta_signature
from cauce_gateway.parsing import Publication, build_inbound_events, parse_meta_webhook
from cauce_runtime import ServiceSettings
from cauce_runtime.telemetry import metrics
from cauce_runtime.telemetry._messaging_spans import publish_attributes
from cauce_runtime.telemetry._tracing import span_to_json
from cauce_runtime.telemetry.metrics import install_meter_provider

SECRET = "steps-secret"  # noqa: S105 - signs only this process's own webhook
CONTACT_SECRET = b"steps-contact-key-secret-0123456789"
ROUNDS = 5000

SERVER_ATTRIBUTES: dict[str, str | int] = {
    "http.request.method": "POST",
    "url.scheme": "http",
    "network.protocol.version": "1.1",
    "server.address": "127.0.0.1",
    "server.port": 8000,
    "client.address": "127.0.0.1",
    "user_agent.original": "bench",
    "http.route": "/webhooks/whatsapp",
}


HTTP_LABELS: dict[str, str | int] = {
    "http.request.method": "POST",
    "http.route": "/webhooks/whatsapp",
    "http.response.status_code": 200,
}


@dataclass(frozen=True)
class Step:
    name: str
    us: float


def _time(fn: Callable[[], object]) -> float:
    fn()
    return timeit.timeit(fn, number=ROUNDS) / ROUNDS * 1e6


def measure() -> list[Step]:
    """Microseconds per webhook of each step, in the order a webhook takes them."""
    body, signature = build_bodies(1, SECRET)[0]
    secrets = [SECRET.encode()]
    parsed = parse_meta_webhook(body, channel=Channel.WHATSAPP)

    def events() -> list[Publication]:
        return build_inbound_events(
            parsed.all_items(),
            tenant_for=lambda channel, account: "bench" if account == PHONE_NUMBER_ID else None,
            contact_key_secret=CONTACT_SECRET,
            correlation_id="0" * 32,
            received_at=datetime.now(UTC),
        )

    [publication] = events()
    install_meter_provider(ServiceSettings(service_name="bench-steps", _env_file=None))
    destination = {"messaging.destination.template": "inbound.message.received.x"}

    def metric_samples() -> None:
        metrics.HTTP_REQUEST_SECONDS.record(0.001, HTTP_LABELS)
        metrics.PUBLISH_SECONDS.record(0.001, destination)
        metrics.PUBLISHED.add(1, {**destination, "outcome": "acked"})

    tracer = TracerProvider().get_tracer("bench-steps")
    size = len(publication.event.model_dump_json())

    def spans() -> tuple[ReadableSpan, ReadableSpan]:
        server = tracer.start_span(
            "POST /webhooks/whatsapp", kind=SpanKind.SERVER, attributes=SERVER_ATTRIBUTES
        )
        with trace.use_span(server, end_on_exit=False):
            producer = tracer.start_span(
                "publish inbound.message.received",
                kind=SpanKind.PRODUCER,
                attributes=publish_attributes(publication.subject, size, publication.msg_id),
            )
            producer.set_attributes(
                {
                    "messaging.nats.stream": "INBOUND",
                    "messaging.nats.sequence": 1,
                    "messaging.nats.duplicate": False,
                }
            )
            producer.end()
        server.set_attribute("http.response.status_code", 200)
        server.end()
        return server, producer  # type: ignore[return-value]

    ended = spans()
    return [
        Step(
            "verify X-Hub-Signature-256",
            _time(lambda: verify_meta_signature(body, signature, secrets)),
        ),
        Step(
            "parse (JSON to typed items)",
            _time(lambda: parse_meta_webhook(body, channel=Channel.WHATSAPP)),
        ),
        Step("build the typed event", _time(events)),
        Step("serialise the event", _time(publication.event.model_dump_json)),
        Step("metric samples (3)", _time(metric_samples)),
        Step("spans: create and end (2)", _time(spans)),
        Step("spans: write as JSON (2)", _time(lambda: [to_json(span_to_json(s)) for s in ended])),
    ]


def render(steps: list[Step]) -> str:
    lines = ["", "the gateway's own work per webhook, each step alone (us)"]
    lines += [f"  {step.name:<32}{step.us:>8.1f}" for step in steps]
    untraced = sum(s.us for s in steps if not s.name.startswith("spans"))
    lines.append(
        f"  {'sum, untraced / traced':<32}{untraced:>8.1f} / {sum(s.us for s in steps):.1f}"
    )
    return "\n".join(lines)
