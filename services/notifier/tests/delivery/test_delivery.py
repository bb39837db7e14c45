"""Delivery end to end: requested event -> notifier -> provider fake -> sent/failed events,
against real NATS, PostgreSQL and the sandbox over HTTP."""

from __future__ import annotations

import json
import logging
from pathlib import Path

import pytest
from opentelemetry import trace

from cauce_contracts.outbound import (
    CtaUrlContent,
    OutboundMessageFailed,
    OutboundMessageSent,
    OutboundStatusChanged,
    TemplateContent,
    TextContent,
)
from cauce_devstack.servers import NatsServer
from cauce_runtime import ServiceSettings, setup_telemetry

from .conftest import (
    ADMIN_TOKEN,
    CUSTOMER,
    GRAPH_TOKEN,
    PHONE_NUMBER_ID,
    Stack,
    graph_account,
    running_stack,
    sandbox_settings,
)


async def sent_events(stack: Stack) -> list[OutboundMessageSent]:
    return [e for e in await stack.outcomes() if isinstance(e, OutboundMessageSent)]


async def failed_events(stack: Stack) -> list[OutboundMessageFailed]:
    return [e for e in await stack.outcomes() if isinstance(e, OutboundMessageFailed)]


async def until_sent(stack: Stack, count: int, timeout: float = 20.0) -> None:
    """Wait until exactly ``count`` sent events are on the stream."""

    async def sent() -> bool:
        return len(await sent_events(stack)) == count

    await stack.wait_for(sent, timeout, what=f"{count} sent event(s)")


async def test_a_request_is_sent_once_with_the_exact_wire_payload(stack: Stack) -> None:
    await stack.customer_wrote()
    request = await stack.request(
        CtaUrlContent(
            body="Tu deuda: $954.688", display_text="Pagar ahora", url="https://pay.example/40037"
        )
    )

    await until_sent(stack, 1)
    [event] = await sent_events(stack)
    [wire] = await stack.outbox()
    assert event.request_id == request.event_id
    assert event.provider_message_id == wire["message_id"]
    assert wire["payload"] == {
        "messaging_product": "whatsapp",
        "recipient_type": "individual",
        "to": CUSTOMER,
        "type": "interactive",
        "interactive": {
            "type": "cta_url",
            "body": {"text": "Tu deuda: $954.688"},
            "action": {
                "name": "cta_url",
                "parameters": {"display_text": "Pagar ahora", "url": "https://pay.example/40037"},
            },
        },
        "biz_opaque_callback_data": str(request.event_id),
    }
    stored = await stack.message(request.event_id)
    assert stored["status"] == "sent"
    assert stored["provider_message_id"] == event.provider_message_id
    statuses = [e for e in await stack.outcomes() if isinstance(e, OutboundStatusChanged)]
    assert [s.status for s in statuses] == ["sent"]


async def test_a_redelivered_request_does_not_call_the_provider_again(stack: Stack) -> None:
    await stack.customer_wrote()
    request = await stack.request(TextContent(body="uno"))

    await until_sent(stack, 1)
    # the same event again, past JetStream's dedupe (another Nats-Msg-Id): a redelivery
    await stack.request(TextContent(body="uno"), event_id=request.event_id, msg_id="again-1")
    await stack.request(TextContent(body="uno"), event_id=request.event_id, msg_id="again-2")
    marker = await stack.request(TextContent(body="dos"))

    async def marker_sent() -> bool:
        return any(e.request_id == marker.event_id for e in await sent_events(stack))

    await stack.wait_for(marker_sent, what="the marker message")
    bodies = [w["payload"]["text"]["body"] for w in await stack.outbox()]
    assert bodies.count("uno") == 1
    assert bodies.count("dos") == 1


async def test_free_form_outside_the_window_fails_fast_and_templates_pass(stack: Stack) -> None:
    text = await stack.request(TextContent(body="hola sin ventana"))
    template = await stack.request(TemplateContent(name="hello_world", language="en_US"))

    async def both_done() -> bool:
        ids = {e.request_id for e in await failed_events(stack)} | {
            e.request_id for e in await sent_events(stack)
        }
        return {text.event_id, template.event_id} <= ids

    await stack.wait_for(both_done, what="both outcomes")
    [failed] = await failed_events(stack)
    assert failed.request_id == text.event_id
    assert failed.provider_code == "131047"
    assert not failed.retryable
    assert [w["payload"]["type"] for w in await stack.outbox()] == ["template"]


async def test_a_permanent_provider_error_fails_with_its_code_and_is_not_retried(
    stack: Stack,
) -> None:
    request = await stack.request(TemplateContent(name="no_such_template", language="es"))

    async def failed() -> bool:
        return len(await failed_events(stack)) == 1

    await stack.wait_for(failed, what="the failed event")
    [event] = await failed_events(stack)
    assert event.request_id == request.event_id
    assert event.provider_code == "132001"
    assert event.retryable is False
    stored = await stack.message(request.event_id)
    assert stored["status"] == "failed"
    assert stored["provider_attempts"] == 0  # not counted as a retryable attempt


async def test_a_429_storm_is_ridden_out_without_exceeding_the_provider_limit(
    nats_server: NatsServer, database_url: str, tmp_path: Path
) -> None:
    """The account is configured for 80/s but the provider only takes 5/s: every message
    gets through by honouring Retry-After, and the fake never accepts more than 5 in a
    second."""
    sandbox = sandbox_settings(graph_rate_limit_per_second=5)
    async with running_stack(nats_server, database_url, tmp_path, sandbox=sandbox) as stack:
        await stack.customer_wrote()
        requests = [await stack.request(TextContent(body=f"m{i}")) for i in range(15)]

        await until_sent(stack, len(requests), timeout=40)
        metrics = await stack.graph_metrics()
        assert metrics["accepted"] == 15
        assert metrics["rate_limited"] > 0  # it really was a storm
        assert metrics["max_in_any_1s_window"] <= 5
        assert len(await stack.outbox()) == 15


async def test_the_account_rate_is_never_exceeded(
    nats_server: NatsServer, database_url: str, tmp_path: Path
) -> None:
    """Sent one by one at the account's pace, never more than the provider's limit in a
    second. The Graph fake runs on this test's event loop, so a stall of the loop (a
    loaded CI machine: 30 ms and more) bunches the times it receives requests at; the
    default headroom absorbs 30 ms of bunching, so this test leaves 10 % (100 ms) to
    measure the pacing, not the machine (what a headroom leaves unused: next test)."""
    account = graph_account(rate_per_second=10)
    sandbox = sandbox_settings(graph_rate_limit_per_second=10)
    async with running_stack(
        nats_server,
        database_url,
        tmp_path,
        sandbox=sandbox,
        accounts=[account],
        send_rate_headroom=0.9,
    ) as stack:
        await stack.customer_wrote()
        for i in range(30):
            await stack.request(TextContent(body=f"r{i}"))

        await until_sent(stack, 30, timeout=30)
        metrics = await stack.graph_metrics()
        assert metrics["rate_limited"] == 0  # our bucket kept us under the provider's
        assert metrics["max_in_any_1s_window"] <= 10


async def test_the_configured_headroom_leaves_that_part_of_the_rate_unused(
    nats_server: NatsServer, database_url: str, tmp_path: Path
) -> None:
    """At half of a 10/s rate, 12 sends are 0.2 s apart: over 2 s, never 10 in a second."""
    account = graph_account(rate_per_second=10)
    sandbox = sandbox_settings(graph_rate_limit_per_second=10)
    async with running_stack(
        nats_server,
        database_url,
        tmp_path,
        sandbox=sandbox,
        accounts=[account],
        send_rate_headroom=0.5,
    ) as stack:
        await stack.customer_wrote()
        for i in range(12):
            await stack.request(TextContent(body=f"h{i}"))

        await until_sent(stack, 12, timeout=30)
        metrics = await stack.graph_metrics()
        assert metrics["max_in_any_1s_window"] <= 6  # 5 slots, one more at a window's edge
        assert metrics["last_accepted_at"] - metrics["first_accepted_at"] >= 2.0


async def test_refused_credentials_keep_messages_until_rotated(
    nats_server: NatsServer, database_url: str, tmp_path: Path
) -> None:
    wrong = graph_account(token="an-expired-token")
    async with running_stack(nats_server, database_url, tmp_path, accounts=[wrong]) as stack:
        await stack.customer_wrote()
        request = await stack.request(TextContent(body="espera"))
        [account] = (await stack.admin("GET", "/admin/channels")).json()["items"]

        async def failing() -> bool:
            listed = (await stack.admin("GET", f"/admin/channels/{account['id']}")).json()
            return bool(listed["credentials"]["status"] == "failing")

        await stack.wait_for(failing, what="the account to be marked failing")
        assert await failed_events(stack) == []  # kept, not failed
        rotated = await stack.admin(
            "PUT",
            f"/admin/channels/{account['id']}/credentials",
            json={"access_token": GRAPH_TOKEN},
        )
        assert rotated.status_code == 200, rotated.text

        async def sent() -> bool:
            return any(e.request_id == request.event_id for e in await sent_events(stack))

        await stack.wait_for(sent, what="the kept message after rotation")


async def test_no_phone_number_or_token_in_the_logs(
    stack: Stack, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    await stack.customer_wrote()
    await stack.request(TextContent(body="hola"))
    await stack.request(TemplateContent(name="no_such_template", language="es"))

    async def done() -> bool:
        return len(await sent_events(stack)) == 1 and len(await failed_events(stack)) == 1

    await stack.wait_for(done, what="one sent and one failed")
    logged = "\n".join(
        record.getMessage() + str(record.args) + str(record.exc_info) for record in caplog.records
    )
    for secret in (CUSTOMER, GRAPH_TOKEN, ADMIN_TOKEN):
        assert secret not in logged


async def test_5xx_is_retried_with_backoff_then_delivered(stack: Stack) -> None:
    await stack.customer_wrote()
    armed = await stack.http.post(
        f"{stack.sandbox_url}/sandbox/faults", json={"target": "graph", "kind": "5xx", "count": 2}
    )
    assert armed.status_code in (200, 201)
    request = await stack.request(TextContent(body="tras dos errores"))

    async def sent() -> bool:
        return any(e.request_id == request.event_id for e in await sent_events(stack))

    await stack.wait_for(sent, timeout=30, what="delivery after two 5xx")
    stored = await stack.message(request.event_id)
    assert stored["provider_attempts"] == 2
    assert len(await stack.outbox()) == 1


async def test_5xx_beyond_the_attempt_limit_fails_and_is_dead_lettered(
    nats_server: NatsServer, database_url: str, tmp_path: Path
) -> None:
    async with running_stack(nats_server, database_url, tmp_path, max_provider_attempts=2) as stack:
        await stack.customer_wrote()
        await stack.http.post(
            f"{stack.sandbox_url}/sandbox/faults",
            json={"target": "graph", "kind": "5xx", "count": 100},
        )
        request = await stack.request(TextContent(body="nunca"))

        async def dead_lettered() -> bool:
            return bool(await stack.outcomes("DLQ"))

        await stack.wait_for(dead_lettered, timeout=30, what="the dead letter")
        [failed] = await failed_events(stack)
        assert failed.request_id == request.event_id
        assert failed.retryable is True
        assert failed.provider_code is not None
        [letter] = await stack.outcomes("DLQ")
        assert "gave up after 2 provider attempts" in letter.reason  # type: ignore[attr-defined]
        assert (await stack.message(request.event_id))["status"] == "failed"


async def test_admin_credentials_check_asks_the_provider(
    nats_server: NatsServer, database_url: str, tmp_path: Path
) -> None:
    wrong = graph_account(token="a-revoked-token")
    async with running_stack(nats_server, database_url, tmp_path, accounts=[wrong]) as stack:
        [account] = (await stack.admin("GET", "/admin/channels")).json()["items"]
        refused = await stack.admin("POST", f"/admin/channels/{account['id']}/test")
        assert refused.status_code == 200
        assert refused.json()["ok"] is False
        await stack.admin(
            "PUT",
            f"/admin/channels/{account['id']}/credentials",
            json={"access_token": GRAPH_TOKEN},
        )
        accepted = await stack.admin("POST", f"/admin/channels/{account['id']}/test")
        assert accepted.json()["ok"] is True
        assert GRAPH_TOKEN not in accepted.text


async def test_one_trace_from_the_request_to_the_provider_call(
    stack: Stack, tmp_path: Path
) -> None:
    telemetry = setup_telemetry(
        ServiceSettings(environment="test", span_file=tmp_path / "trace.jsonl", _env_file=None)  # type: ignore[call-arg]
    )
    await stack.customer_wrote()
    with trace.get_tracer("test").start_as_current_span("conversation decides") as root:
        request = await stack.request(TextContent(body="con traza"))
    trace_id = format(root.get_span_context().trace_id, "032x")

    async def sent() -> bool:
        return any(e.request_id == request.event_id for e in await sent_events(stack))

    await stack.wait_for(sent, what="the traced message")
    assert telemetry.force_flush()
    spans = [json.loads(line) for line in (tmp_path / "trace.jsonl").read_text().splitlines()]
    ours = {s["span_id"]: s for s in spans if s["trace_id"] == trace_id}
    # the HTTP call (database calls are CLIENT spans too, with db.* attributes)
    [client] = [s for s in ours.values() if s["kind"] == "CLIENT" and "url.full" in s["attributes"]]
    # the provider call hangs under the notifier's processing of the request
    parent = ours[client["parent_span_id"]]
    assert parent["kind"] == "CONSUMER"
    assert parent["name"] == "process notifier-requests"
    assert client["attributes"]["url.full"].endswith(f"/graph/v23.0/{PHONE_NUMBER_ID}/messages")
