"""POST/GET /webhooks/whatsapp against a real nats-server."""

from __future__ import annotations

import asyncio
import json
import re

import httpx

from cauce_contracts.inbound import InboundMessageReceived, InboundPayloadUnrecognized
from cauce_contracts.registry import parse_event
from cauce_contracts.subjects import MESSAGE_PARTITIONS, Channel, contact_key
from cauce_devstack.sandbox.meta import webhooks as meta
from cauce_runtime import AiohttpTransport

from .conftest import (
    CUSTOMER,
    DISPLAY_NUMBER,
    PHONE_NUMBER_ID,
    TENANT,
    UNKNOWN_PHONE_NUMBER_ID,
    VERIFY_TOKEN,
    RunningGateway,
    signed_meta,
    stream_messages,
    text_webhook,
)

TRACEPARENT = re.compile(r"^00-[0-9a-f]{32}-[0-9a-f]{16}-[0-9a-f]{2}$")


async def test_accepted_message_is_a_durable_event(gateway: RunningGateway) -> None:
    body, headers = signed_meta(text_webhook("Hola, quiero pagar", message_id="wamid.ABC123"))
    async with gateway.client() as client:
        response = await client.post("/webhooks/whatsapp", content=body, headers=headers)
    assert response.status_code == 200
    assert response.json() == {"status": "accepted", "events": 1}

    [stored] = await stream_messages(gateway.nats.url)
    key = contact_key(CUSTOMER, gateway.settings.contact_key_secret.get_secret_value().encode())
    # Stored with the contact's partition appended (the INBOUND stream's subject transform).
    published, _, partition = stored.subject.rpartition(".")
    assert published == f"inbound.message.received.{TENANT}.whatsapp.{key}"
    assert 0 <= int(partition) < MESSAGE_PARTITIONS
    assert stored.headers is not None
    assert stored.headers["Nats-Msg-Id"] == "whatsapp:msg:wamid.ABC123"
    assert TRACEPARENT.match(stored.headers["traceparent"])
    event = parse_event(stored.data)
    assert isinstance(event, InboundMessageReceived)
    assert event.tenant_id == TENANT
    assert event.channel is Channel.WHATSAPP
    assert event.channel_account_id == PHONE_NUMBER_ID
    assert event.provider_message_id == "wamid.ABC123"
    assert event.message.type == "text"
    assert event.message.body == "Hola, quiero pagar"  # type: ignore[union-attr]
    assert event.correlation_id
    assert CUSTOMER not in stored.subject


async def test_same_webhook_three_times_is_one_event(gateway: RunningGateway) -> None:
    body, headers = signed_meta(text_webhook(message_id="wamid.REDELIVERED"))
    async with gateway.client() as client:
        statuses = [
            (await client.post("/webhooks/whatsapp", content=body, headers=headers)).status_code
            for _ in range(3)
        ]
    assert statuses == [200, 200, 200]
    assert len(await stream_messages(gateway.nats.url)) == 1


async def test_batched_post_of_fifty_messages_is_fifty_events(gateway: RunningGateway) -> None:
    messages = [
        meta.inbound_message(CUSTOMER, meta.text(f"mensaje {i}"), message_id=f"wamid.B{i:03d}")
        for i in range(50)
    ]
    value = meta.messages_value(
        PHONE_NUMBER_ID, DISPLAY_NUMBER, [meta.contact(CUSTOMER, "Ana")], messages
    )
    body, headers = signed_meta(meta.webhook([value], waba_id="1"))
    async with gateway.client() as client:
        response = await client.post("/webhooks/whatsapp", content=body, headers=headers)
    assert response.json() == {"status": "accepted", "events": 50}
    stored = await stream_messages(gateway.nats.url)
    assert sorted(m.headers["Nats-Msg-Id"] for m in stored if m.headers) == [
        f"whatsapp:msg:wamid.B{i:03d}" for i in range(50)
    ]


async def test_statuses_and_messages_in_one_post_each_become_events(
    gateway: RunningGateway,
) -> None:
    statuses = meta.statuses_value(
        PHONE_NUMBER_ID,
        DISPLAY_NUMBER,
        [
            meta.status("wamid.OUT1", "delivered", CUSTOMER, pricing=meta.pricing()),
            meta.status("wamid.OUT1", "read", CUSTOMER),
        ],
    )
    payload = meta.merge_webhooks(
        text_webhook(message_id="wamid.IN1"), meta.webhook([statuses], "1")
    )
    body, headers = signed_meta(payload)
    async with gateway.client() as client:
        response = await client.post("/webhooks/whatsapp", content=body, headers=headers)
    assert response.json()["events"] == 3
    subjects = sorted(m.subject.split(".")[1] for m in await stream_messages(gateway.nats.url))
    assert subjects == ["message", "status", "status"]


async def test_thousand_concurrent_webhooks_are_exactly_thousand_events(
    gateway: RunningGateway,
) -> None:
    bodies = [signed_meta(text_webhook(message_id=f"wamid.C{i:04d}")) for i in range(1000)]
    # aiohttp underneath: httpcore's pool re-checks every connection for each queued
    # request, so 1,000 requests over 100 connections kept this client busy for seconds
    # while its idle connections reached the server's keep-alive timeout (ReadError).
    transport = AiohttpTransport(limits=httpx.Limits(max_connections=100))
    async with httpx.AsyncClient(base_url=gateway.url, timeout=60, transport=transport) as client:
        responses = await asyncio.gather(
            *(client.post("/webhooks/whatsapp", content=b, headers=h) for b, h in bodies)
        )
    assert {r.status_code for r in responses} == {200}
    stored = await stream_messages(gateway.nats.url)
    assert len(stored) == 1000
    assert len({m.headers["Nats-Msg-Id"] for m in stored if m.headers}) == 1000


async def test_unknown_account_goes_to_unrecognized(gateway: RunningGateway) -> None:
    payload = text_webhook(message_id="wamid.STRANGER", phone_number_id=UNKNOWN_PHONE_NUMBER_ID)
    body, headers = signed_meta(payload)
    async with gateway.client() as client:
        response = await client.post("/webhooks/whatsapp", content=body, headers=headers)
    assert response.status_code == 200
    [stored] = await stream_messages(gateway.nats.url)
    assert stored.subject == "inbound.unrecognized.whatsapp"
    event = parse_event(stored.data)
    assert isinstance(event, InboundPayloadUnrecognized)
    assert event.reason == "unknown channel account"
    assert event.channel_account_id == UNKNOWN_PHONE_NUMBER_ID


async def test_an_account_id_too_long_for_the_contract_is_kept_not_a_500(
    gateway: RunningGateway,
) -> None:
    """Found by fuzzing with valid signatures: a 10,000-character ``phone_number_id``
    broke the unrecognized event's 256-character account id, and Meta got a 500."""
    payload = text_webhook(message_id="wamid.LONGID", phone_number_id="9" * 10_000)
    body, headers = signed_meta(payload)
    async with gateway.client() as client:
        response = await client.post("/webhooks/whatsapp", content=body, headers=headers)
    assert response.status_code == 200, response.text
    [stored] = await stream_messages(gateway.nats.url)
    event = parse_event(stored.data)
    assert isinstance(event, InboundPayloadUnrecognized)
    assert event.reason == "unknown channel account" and event.channel_account_id is None
    assert "9" * 10_000 in event.payload  # the payload keeps what the event could not


async def test_a_part_an_event_contract_refuses_is_kept_not_a_500(
    gateway: RunningGateway,
) -> None:
    """A message id of 10,000 characters parses but no event can carry it."""
    body, headers = signed_meta(text_webhook(message_id="wamid." + "w" * 10_000))
    async with gateway.client() as client:
        response = await client.post("/webhooks/whatsapp", content=body, headers=headers)
    assert response.status_code == 200, response.text
    [stored] = await stream_messages(gateway.nats.url)
    event = parse_event(stored.data)
    assert isinstance(event, InboundPayloadUnrecognized)
    assert event.reason.startswith("the event contract refused it: provider_message_id")


async def test_authentic_but_unparseable_payload_is_kept_as_unrecognized(
    gateway: RunningGateway,
) -> None:
    body = b'{"object": "whatsapp_business_account", "entry": "not-a-list"'
    headers = {
        "X-Hub-Signature-256": meta.sign(
            body, gateway.settings.meta_app_secrets[0].get_secret_value()
        )
    }
    async with gateway.client() as client:
        response = await client.post("/webhooks/whatsapp", content=body, headers=headers)
    assert response.status_code == 200
    [stored] = await stream_messages(gateway.nats.url)
    assert stored.subject == "inbound.unrecognized.whatsapp"
    event = parse_event(stored.data)
    assert isinstance(event, InboundPayloadUnrecognized)
    assert event.payload == body.decode()


async def test_unsigned_or_wrongly_signed_requests_get_401_and_publish_nothing(
    gateway: RunningGateway,
) -> None:
    body, good = signed_meta(text_webhook())
    attempts = [
        {},
        {"X-Hub-Signature-256": meta.sign(body, "wrong-secret")},
        {"X-Hub-Signature-256": good["X-Hub-Signature-256"].replace("sha256=", "sha1=")},
    ]
    async with gateway.client() as client:
        for headers in attempts:
            response = await client.post("/webhooks/whatsapp", content=body, headers=headers)
            assert response.status_code == 401
            assert response.headers["content-type"] == "application/problem+json"
            assert response.json()["status"] == 401
        tampered = await client.post(
            "/webhooks/whatsapp", content=body.replace(b"Hola", b"Chao"), headers=good
        )
        assert tampered.status_code == 401
    assert await stream_messages(gateway.nats.url) == []


async def test_oversized_body_gets_413_and_publishes_nothing(gateway: RunningGateway) -> None:
    limit = gateway.settings.max_body_bytes
    body = b'{"object":"whatsapp_business_account","pad":"' + b"x" * limit + b'"}'
    headers = {"X-Hub-Signature-256": meta.sign(body, "test-meta-app-secret")}
    async with gateway.client() as client:
        response = await client.post("/webhooks/whatsapp", content=body, headers=headers)

        async def chunks():  # no Content-Length: the limit holds while streaming too
            for start in range(0, len(body), 65536):
                yield body[start : start + 65536]

        streamed = await client.post("/webhooks/whatsapp", content=chunks(), headers=headers)
    assert response.status_code == 413
    assert response.headers["content-type"] == "application/problem+json"
    assert streamed.status_code == 413
    assert await stream_messages(gateway.nats.url) == []


async def test_bus_down_gives_503_and_nothing_is_lost_after_restart(
    gateway: RunningGateway,
) -> None:
    before, headers_before = signed_meta(text_webhook(message_id="wamid.BEFORE"))
    during, headers_during = signed_meta(text_webhook(message_id="wamid.DURING"))
    async with gateway.client() as client:
        assert (
            await client.post("/webhooks/whatsapp", content=before, headers=headers_before)
        ).status_code == 200
        gateway.nats.stop()
        down = await client.post("/webhooks/whatsapp", content=during, headers=headers_during)
        assert down.status_code == 503
        assert down.headers["retry-after"] == "7"
        assert down.headers["content-type"] == "application/problem+json"
        gateway.nats.start()
        # the channel retries the same delivery until it is durable
        for _ in range(100):
            retry = await client.post("/webhooks/whatsapp", content=during, headers=headers_during)
            if retry.status_code == 200:
                break
            assert retry.status_code == 503
            await asyncio.sleep(0.1)
        assert retry.status_code == 200
    ids = [m.headers["Nats-Msg-Id"] for m in await stream_messages(gateway.nats.url) if m.headers]
    assert ids == ["whatsapp:msg:wamid.BEFORE", "whatsapp:msg:wamid.DURING"]


async def test_verification_handshake(gateway: RunningGateway) -> None:
    async with gateway.client() as client:
        ok = await client.get(
            "/webhooks/whatsapp",
            params={
                "hub.mode": "subscribe",
                "hub.verify_token": VERIFY_TOKEN,
                "hub.challenge": "1158201444",
            },
        )
        wrong = await client.get(
            "/webhooks/whatsapp",
            params={"hub.mode": "subscribe", "hub.verify_token": "nope", "hub.challenge": "1"},
        )
    assert ok.status_code == 200
    assert ok.text == "1158201444"
    assert wrong.status_code == 403
    assert wrong.headers["content-type"] == "application/problem+json"


async def test_span_file_records_the_webhook_trace(gateway: RunningGateway) -> None:
    body, headers = signed_meta(text_webhook(message_id="wamid.TRACED"))
    async with gateway.client() as client:
        await client.post("/webhooks/whatsapp", content=body, headers=headers)
    [stored] = await stream_messages(gateway.nats.url)
    trace_id = stored.headers["traceparent"].split("-")[1]  # type: ignore[index]
    event = parse_event(stored.data)
    assert event.correlation_id == trace_id
    assert json.dumps
