"""YCloud client against the YCloud fake: exact wire payloads, read receipts, errors."""

from __future__ import annotations

import uuid
from typing import Any

import httpx
import pytest

from cauce_contracts.outbound import (
    CtaUrlContent,
    ListContent,
    ListRow,
    ListSection,
    MarkReadContent,
    MediaContent,
    OutboundContent,
    ReplyButton,
    ReplyButtonsContent,
    TemplateComponent,
    TemplateContent,
    TextContent,
    TextParameter,
)
from cauce_contracts.subjects import Channel
from cauce_notifier.providers.errors import CredentialsRejected, PermanentProviderError
from cauce_notifier.providers.ycloud import YCloudClient

from .conftest import CUSTOMER, YCLOUD_NUMBER, Sandbox, request, ycloud_account

EVENT_ID = uuid.UUID("0b5e1f3a-2c4d-4e6f-8a9b-c0d1e2f3a4b5")
BASE = {"from": YCLOUD_NUMBER, "to": CUSTOMER}

CASES: list[tuple[str, OutboundContent, dict[str, Any]]] = [
    (
        "text",
        TextContent(body="Hola"),
        {"type": "text", "text": {"preview_url": False, "body": "Hola"}},
    ),
    (
        "cta_url",
        CtaUrlContent(body="Paga aquí", display_text="Pagar", url="https://pay.acme.test/1"),
        {
            "type": "interactive",
            "interactive": {
                "type": "cta_url",
                "body": {"text": "Paga aquí"},
                "action": {
                    "name": "cta_url",
                    "parameters": {"display_text": "Pagar", "url": "https://pay.acme.test/1"},
                },
            },
        },
    ),
    (
        "reply_buttons",
        ReplyButtonsContent(
            body="¿Sí?", buttons=[ReplyButton(id="y", title="Sí")], header="Confirma"
        ),
        {
            "type": "interactive",
            "interactive": {
                "type": "button",
                "header": {"type": "text", "text": "Confirma"},
                "body": {"text": "¿Sí?"},
                "action": {"buttons": [{"type": "reply", "reply": {"id": "y", "title": "Sí"}}]},
            },
        },
    ),
    (
        "list",
        ListContent(
            body="Elige",
            button="Opciones",
            sections=[ListSection(rows=[ListRow(id="a", title="A", description="la A")])],
        ),
        {
            "type": "interactive",
            "interactive": {
                "type": "list",
                "body": {"text": "Elige"},
                "action": {
                    "button": "Opciones",
                    "sections": [{"rows": [{"id": "a", "title": "A", "description": "la A"}]}],
                },
            },
        },
    ),
    (
        "template",
        TemplateContent(
            name="welcome",
            language="es",
            components=[TemplateComponent(type="body", parameters=[TextParameter(text="Ana")])],
        ),
        {
            "type": "template",
            "template": {
                "name": "welcome",
                "language": {"code": "es"},
                "components": [{"type": "body", "parameters": [{"type": "text", "text": "Ana"}]}],
            },
        },
    ),
    (
        "document",
        MediaContent(
            media_type="document", link="https://acme.test/f.pdf", caption="F", filename="f.pdf"
        ),
        {
            "type": "document",
            "document": {"link": "https://acme.test/f.pdf", "caption": "F", "filename": "f.pdf"},
        },
    ),
    (
        "sticker_id",
        MediaContent(media_type="sticker", id="556677"),
        {"type": "sticker", "sticker": {"id": "556677"}},
    ),
]


def client(http: httpx.AsyncClient, url: str) -> YCloudClient:
    return YCloudClient(http, f"{url}/ycloud")


def message(content: OutboundContent, **options: Any) -> Any:
    return request(
        content,
        channel=Channel.YCLOUD,
        account_id=YCLOUD_NUMBER.lstrip("+"),
        event_id=EVENT_ID,
        **options,
    )


@pytest.mark.parametrize(("name", "content", "expected"), CASES, ids=[c[0] for c in CASES])
async def test_every_content_type_arrives_as_ycloud_documents(
    sandbox: Sandbox, name: str, content: OutboundContent, expected: dict[str, Any]
) -> None:
    result = await client(sandbox.http, sandbox.url).send(ycloud_account(), message(content))
    [entry] = await sandbox.outbox("ycloud")
    assert entry["payload"] == BASE | expected | {"externalId": str(EVENT_ID)}
    assert result.provider_message_id == entry["message_id"]
    assert result.provider_message_id.startswith("wamid.")
    assert result.wire_payload == entry["payload"]


async def test_a_reply_carries_context(sandbox: Sandbox) -> None:
    await client(sandbox.http, sandbox.url).send(
        ycloud_account(), message(TextContent(body="Ok"), reply_to="wamid.IN9")
    )
    [entry] = await sandbox.outbox("ycloud")
    assert entry["payload"]["context"] == {"message_id": "wamid.IN9"}


@pytest.mark.parametrize(("typing", "action"), [(False, "read"), (True, "typing")])
async def test_mark_read_uses_the_inbound_message_endpoints(
    sandbox: Sandbox, typing: bool, action: str
) -> None:
    result = await client(sandbox.http, sandbox.url).send(
        ycloud_account(), message(MarkReadContent(message_id="wamid.IN/1", typing_indicator=typing))
    )
    [entry] = await sandbox.outbox("ycloud")
    assert (entry["kind"], entry["type"], entry["message_id"]) == ("read", action, "wamid.IN/1")
    assert result.delivery == "read_receipt"
    assert result.provider_message_id == "wamid.IN/1"


async def test_a_wrong_key_is_credentials_rejected(sandbox: Sandbox) -> None:
    with pytest.raises(CredentialsRejected) as caught:
        await client(sandbox.http, sandbox.url).send(
            ycloud_account("wrong"), message(TextContent(body="x"))
        )
    assert caught.value.code == "UNAUTHORIZED"
    assert caught.value.http_status == 401
    assert await sandbox.outbox("ycloud") == []


async def test_an_unknown_sender_number_is_permanent(sandbox: Sandbox) -> None:
    other = request(TextContent(body="x"), channel=Channel.YCLOUD, account_id="573109999999")
    with pytest.raises(PermanentProviderError) as caught:
        await client(sandbox.http, sandbox.url).send(ycloud_account(), other)
    assert caught.value.code == "PARAM_INVALID"
    assert not caught.value.retryable
