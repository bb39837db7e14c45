"""WhatsApp Cloud API client against the Graph fake: exact wire payloads and errors."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from cauce_contracts.outbound import (
    CtaUrlContent,
    CurrencyParameter,
    DateTimeParameter,
    ListContent,
    ListRow,
    ListSection,
    MarkReadContent,
    MediaContent,
    MediaParameter,
    MediaSource,
    OutboundContent,
    PayloadParameter,
    ReplyButton,
    ReplyButtonsContent,
    TemplateComponent,
    TemplateContent,
    TextContent,
    TextParameter,
)
from cauce_contracts.subjects import Channel
from cauce_devstack.servers import free_port
from cauce_notifier.providers.errors import (
    CredentialsRejected,
    RateLimited,
    RetryableProviderError,
)
from cauce_notifier.providers.whatsapp_cloud import WhatsAppCloudClient

from .conftest import CUSTOMER, PHONE_NUMBER_ID, Sandbox, request, whatsapp_account

VERSION = "v23.0"
BASE = {"messaging_product": "whatsapp", "recipient_type": "individual", "to": CUSTOMER}

CASES: list[tuple[str, OutboundContent, dict[str, Any]]] = [
    (
        "text",
        TextContent(body="Hola https://acme.test", preview_url=True),
        {"type": "text", "text": {"preview_url": True, "body": "Hola https://acme.test"}},
    ),
    (
        "cta_url",
        CtaUrlContent(
            body="Tu factura está lista",
            display_text="Pagar ahora",
            url="https://pay.acme.test/i/42",
            header="Factura 42",
            footer="Acme",
        ),
        {
            "type": "interactive",
            "interactive": {
                "type": "cta_url",
                "header": {"type": "text", "text": "Factura 42"},
                "body": {"text": "Tu factura está lista"},
                "action": {
                    "name": "cta_url",
                    "parameters": {
                        "display_text": "Pagar ahora",
                        "url": "https://pay.acme.test/i/42",
                    },
                },
                "footer": {"text": "Acme"},
            },
        },
    ),
    (
        "reply_buttons",
        ReplyButtonsContent(
            body="¿Confirmas?",
            buttons=[ReplyButton(id="yes", title="Sí"), ReplyButton(id="no", title="No")],
        ),
        {
            "type": "interactive",
            "interactive": {
                "type": "button",
                "body": {"text": "¿Confirmas?"},
                "action": {
                    "buttons": [
                        {"type": "reply", "reply": {"id": "yes", "title": "Sí"}},
                        {"type": "reply", "reply": {"id": "no", "title": "No"}},
                    ]
                },
            },
        },
    ),
    (
        "list",
        ListContent(
            body="Elige un plan",
            button="Ver planes",
            sections=[
                ListSection(
                    title="Hogar",
                    rows=[
                        ListRow(id="p1", title="Básico", description="10 Mbps"),
                        ListRow(id="p2", title="Plus"),
                    ],
                ),
                ListSection(title="Empresa", rows=[ListRow(id="p3", title="Pro")]),
            ],
            footer="Precios con IVA",
        ),
        {
            "type": "interactive",
            "interactive": {
                "type": "list",
                "body": {"text": "Elige un plan"},
                "action": {
                    "button": "Ver planes",
                    "sections": [
                        {
                            "title": "Hogar",
                            "rows": [
                                {"id": "p1", "title": "Básico", "description": "10 Mbps"},
                                {"id": "p2", "title": "Plus"},
                            ],
                        },
                        {"title": "Empresa", "rows": [{"id": "p3", "title": "Pro"}]},
                    ],
                },
                "footer": {"text": "Precios con IVA"},
            },
        },
    ),
    (
        "template",
        TemplateContent(
            name="payment_due",
            language="es_CO",
            components=[
                TemplateComponent(
                    type="header",
                    parameters=[
                        MediaParameter(
                            type="document", media=MediaSource(link="https://acme.test/f.pdf")
                        )
                    ],
                ),
                TemplateComponent(
                    type="body",
                    parameters=[
                        TextParameter(text="Ana", parameter_name="customer_name"),
                        CurrencyParameter(
                            fallback_value="$50.000", code="COP", amount_1000=50_000_000
                        ),
                        DateTimeParameter(fallback_value="1 de marzo"),
                    ],
                ),
                TemplateComponent(
                    type="button",
                    sub_type="quick_reply",
                    index=0,
                    parameters=[PayloadParameter(payload="PAY-42")],
                ),
            ],
        ),
        {
            "type": "template",
            "template": {
                "name": "payment_due",
                "language": {"code": "es_CO"},
                "components": [
                    {
                        "type": "header",
                        "parameters": [
                            {"type": "document", "document": {"link": "https://acme.test/f.pdf"}}
                        ],
                    },
                    {
                        "type": "body",
                        "parameters": [
                            {"type": "text", "text": "Ana", "parameter_name": "customer_name"},
                            {
                                "type": "currency",
                                "currency": {
                                    "fallback_value": "$50.000",
                                    "code": "COP",
                                    "amount_1000": 50_000_000,
                                },
                            },
                            {"type": "date_time", "date_time": {"fallback_value": "1 de marzo"}},
                        ],
                    },
                    {
                        "type": "button",
                        "sub_type": "quick_reply",
                        "index": "0",
                        "parameters": [{"type": "payload", "payload": "PAY-42"}],
                    },
                ],
            },
        },
    ),
    (
        "image_link",
        MediaContent(media_type="image", link="https://acme.test/a.png", caption="Mira"),
        {"type": "image", "image": {"link": "https://acme.test/a.png", "caption": "Mira"}},
    ),
    (
        "document_id",
        MediaContent(media_type="document", id="1234567890", filename="factura.pdf"),
        {"type": "document", "document": {"id": "1234567890", "filename": "factura.pdf"}},
    ),
    (
        "audio",
        MediaContent(media_type="audio", link="https://acme.test/v.ogg"),
        {"type": "audio", "audio": {"link": "https://acme.test/v.ogg"}},
    ),
    (
        "video",
        MediaContent(media_type="video", id="998877", caption="Demo"),
        {"type": "video", "video": {"id": "998877", "caption": "Demo"}},
    ),
    (
        "sticker",
        MediaContent(media_type="sticker", link="https://acme.test/s.webp"),
        {"type": "sticker", "sticker": {"link": "https://acme.test/s.webp"}},
    ),
]


def client(http: httpx.AsyncClient, url: str) -> WhatsAppCloudClient:
    return WhatsAppCloudClient(http, f"{url}/graph", VERSION)


@pytest.mark.parametrize(("name", "content", "expected"), CASES, ids=[c[0] for c in CASES])
async def test_every_content_type_arrives_exactly_as_meta_documents(
    sandbox: Sandbox, name: str, content: OutboundContent, expected: dict[str, Any]
) -> None:
    message = request(content, channel=Channel.WHATSAPP, account_id=PHONE_NUMBER_ID)
    result = await client(sandbox.http, sandbox.url).send(whatsapp_account(), message)

    [entry] = await sandbox.outbox("graph")
    # the request's id rides along: Meta echoes it on the message's status webhooks
    assert entry["payload"] == BASE | expected | {"biz_opaque_callback_data": str(message.event_id)}
    assert entry["api_version"] == VERSION
    assert entry["phone_number_id"] == PHONE_NUMBER_ID
    assert result.provider_message_id == entry["message_id"]
    assert result.provider_message_id.startswith("wamid.")
    assert result.wire_payload == entry["payload"]
    assert result.degradation is None
    assert result.delivery == "message"


async def test_a_reply_carries_the_quoted_message_in_context(sandbox: Sandbox) -> None:
    message = request(
        TextContent(body="Claro"),
        channel=Channel.WHATSAPP,
        account_id=PHONE_NUMBER_ID,
        reply_to="wamid.INBOUND1",
    )
    await client(sandbox.http, sandbox.url).send(whatsapp_account(), message)
    [entry] = await sandbox.outbox("graph")
    assert entry["payload"] == BASE | {
        "context": {"message_id": "wamid.INBOUND1"},
        "type": "text",
        "text": {"preview_url": False, "body": "Claro"},
        "biz_opaque_callback_data": str(message.event_id),
    }


@pytest.mark.parametrize("typing", [True, False])
async def test_mark_read_with_and_without_typing_indicator(sandbox: Sandbox, typing: bool) -> None:
    message = request(
        MarkReadContent(message_id="wamid.IN2", typing_indicator=typing),
        channel=Channel.WHATSAPP,
        account_id=PHONE_NUMBER_ID,
    )
    result = await client(sandbox.http, sandbox.url).send(whatsapp_account(), message)
    [entry] = await sandbox.outbox("graph")
    expected: dict[str, Any] = {
        "messaging_product": "whatsapp",
        "status": "read",
        "message_id": "wamid.IN2",
    }
    if typing:
        expected["typing_indicator"] = {"type": "text"}
    assert entry["kind"] == "read"
    assert entry["payload"] == expected
    assert result.delivery == "read_receipt"
    assert result.provider_message_id == "wamid.IN2"


async def test_a_wrong_token_is_credentials_rejected(sandbox: Sandbox) -> None:
    message = request(TextContent(body="x"), channel=Channel.WHATSAPP, account_id=PHONE_NUMBER_ID)
    with pytest.raises(CredentialsRejected) as caught:
        await client(sandbox.http, sandbox.url).send(whatsapp_account("wrong"), message)
    assert caught.value.code == "190"
    assert caught.value.http_status == 401
    assert caught.value.retryable
    assert await sandbox.outbox("graph") == []


async def test_throughput_error_is_rate_limited_with_retry_after(sandbox: Sandbox) -> None:
    await sandbox.fault(target="graph", kind="429", retry_after=7)
    message = request(TextContent(body="x"), channel=Channel.WHATSAPP, account_id=PHONE_NUMBER_ID)
    with pytest.raises(RateLimited) as caught:
        await client(sandbox.http, sandbox.url).send(whatsapp_account(), message)
    assert caught.value.code == "130429"
    assert caught.value.retry_after == 7.0


async def test_a_server_error_is_retryable(sandbox: Sandbox) -> None:
    await sandbox.fault(target="graph", kind="5xx", status=503)
    message = request(TextContent(body="x"), channel=Channel.WHATSAPP, account_id=PHONE_NUMBER_ID)
    with pytest.raises(RetryableProviderError) as caught:
        await client(sandbox.http, sandbox.url).send(whatsapp_account(), message)
    assert type(caught.value) is RetryableProviderError
    assert caught.value.http_status == 503


async def test_a_read_timeout_is_retryable(sandbox: Sandbox) -> None:
    await sandbox.fault(target="graph", kind="latency", latency_ms=800)
    message = request(TextContent(body="x"), channel=Channel.WHATSAPP, account_id=PHONE_NUMBER_ID)
    async with httpx.AsyncClient(timeout=httpx.Timeout(5.0, read=0.2)) as http:
        with pytest.raises(RetryableProviderError) as caught:
            await client(http, sandbox.url).send(whatsapp_account(), message)
    assert caught.value.code == "timeout"
    assert caught.value.outcome_unknown  # the request left: Meta may have the message


async def test_a_refused_connection_is_retryable() -> None:
    message = request(TextContent(body="x"), channel=Channel.WHATSAPP, account_id=PHONE_NUMBER_ID)
    async with httpx.AsyncClient(timeout=2.0) as http:
        with pytest.raises(RetryableProviderError) as caught:
            await client(http, f"http://127.0.0.1:{free_port()}").send(whatsapp_account(), message)
    assert caught.value.code == "connection"
    assert not caught.value.outcome_unknown  # nothing left
