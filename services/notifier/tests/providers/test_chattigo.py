"""Chattigo client against the Chattigo fake: format, text fallback, token lifecycle."""

from __future__ import annotations

import asyncio
import time
import uuid
from datetime import timedelta
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
    TemplateContent,
    TextContent,
)
from cauce_contracts.subjects import Channel
from cauce_notifier.providers.chattigo import ChattigoClient, chattigo_message_id
from cauce_notifier.providers.errors import CredentialsRejected, PermanentProviderError

from .conftest import (
    CHATTIGO_DID,
    Sandbox,
    chattigo_account,
    request,
    sandbox_settings,
    serve_sandbox,
)

EVENT_ID = uuid.UUID("6f1c2a4e-8d3b-4c5a-9e7f-0a1b2c3d4e5f")
MSISDN = "573001234567"
TEXT_BASE = {
    "id": chattigo_message_id(EVENT_ID),
    "did": CHATTIGO_DID,
    "msisdn": MSISDN,
    "type": "text",
    "channel": "WHATSAPP",
    "name": "Cauce Bot",
    "isAttachment": False,
}

CASES: list[tuple[str, OutboundContent, dict[str, Any], str | None]] = [
    ("text", TextContent(body="Hola Ana"), {"content": "Hola Ana"}, None),
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
            "content": "*Factura 42*\n\nTu factura está lista\n\n"
            "Pagar ahora: https://pay.acme.test/i/42\n\n_Acme_"
        },
        "cta_url",
    ),
    (
        "reply_buttons",
        ReplyButtonsContent(
            body="¿Confirmas?",
            buttons=[ReplyButton(id="yes", title="Sí"), ReplyButton(id="no", title="No")],
        ),
        {"content": "¿Confirmas?\n\n1. Sí\n2. No"},
        "reply_buttons rendered as numbered text options",
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
        ),
        {"content": "Elige un plan\n\n*Hogar*\n1. Básico - 10 Mbps\n2. Plus\n\n*Empresa*\n3. Pro"},
        "list rendered as numbered text rows",
    ),
    (
        "document",
        MediaContent(
            media_type="document",
            link="https://acme.test/files/f-42",
            caption="Tu factura",
            filename="factura.pdf",
        ),
        {
            "type": "media",
            "content": "Tu factura",
            "isAttachment": True,
            "attachment": {
                "mediaUrl": "https://acme.test/files/f-42",
                "mimeType": "application/pdf",
                "fileName": "factura.pdf",
            },
        },
        None,
    ),
    (
        "image",
        MediaContent(media_type="image", link="https://acme.test/a/photo.png"),
        {
            "type": "media",
            "content": "",
            "isAttachment": True,
            "attachment": {
                "mediaUrl": "https://acme.test/a/photo.png",
                "mimeType": "image/png",
                "fileName": "photo.png",
            },
        },
        None,
    ),
    (
        "audio_without_extension",
        MediaContent(media_type="audio", link="https://acme.test/"),
        {
            "type": "media",
            "content": "",
            "isAttachment": True,
            "attachment": {"mediaUrl": "https://acme.test/", "mimeType": "audio/ogg"},
        },
        None,
    ),
]


def client(http: httpx.AsyncClient, url: str, **options: Any) -> ChattigoClient:
    return ChattigoClient(http, f"{url}/chattigo", **options)


def message(content: OutboundContent, **options: Any) -> Any:
    options.setdefault("event_id", EVENT_ID)
    return request(content, channel=Channel.CHATTIGO, account_id=CHATTIGO_DID, **options)


@pytest.mark.parametrize(
    ("name", "content", "expected", "degradation"), CASES, ids=[c[0] for c in CASES]
)
async def test_every_content_type_arrives_in_chattigo_format(
    sandbox: Sandbox,
    name: str,
    content: OutboundContent,
    expected: dict[str, Any],
    degradation: str | None,
) -> None:
    result = await client(sandbox.http, sandbox.url).send(chattigo_account(), message(content))

    [entry] = await sandbox.outbox("chattigo", "message")
    assert entry["payload"] == TEXT_BASE | expected
    assert result.provider_message_id == TEXT_BASE["id"] == entry["message_id"]
    assert result.wire_payload == entry["payload"]
    if degradation is None:
        assert result.degradation is None
    else:
        assert result.degradation is not None and result.degradation.startswith(degradation)


async def test_the_message_id_is_stable_per_request() -> None:
    assert chattigo_message_id(EVENT_ID) == chattigo_message_id(EVENT_ID)
    assert chattigo_message_id(EVENT_ID) != chattigo_message_id(uuid.uuid4())
    assert int(chattigo_message_id(EVENT_ID)) < 2**63


async def test_a_reply_notes_the_lost_quote(sandbox: Sandbox) -> None:
    result = await client(sandbox.http, sandbox.url).send(
        chattigo_account(), message(TextContent(body="Claro"), reply_to="wamid.X")
    )
    assert result.degradation is not None and "reply context dropped" in result.degradation


async def test_mark_read_is_a_documented_noop(sandbox: Sandbox) -> None:
    result = await client(sandbox.http, sandbox.url).send(
        chattigo_account(), message(MarkReadContent(message_id="wamid.IN"))
    )
    assert result.delivery == "noop"
    assert result.provider_message_id == f"chattigo:noop:{EVENT_ID}"
    assert result.wire_payload == {}
    assert await sandbox.outbox("chattigo") == []  # not even a login


@pytest.mark.parametrize(
    "content",
    [
        TemplateContent(name="payment_due", language="es"),
        MediaContent(media_type="image", id="123456"),
    ],
    ids=["template", "media_by_id"],
)
async def test_content_chattigo_cannot_carry_fails_permanently(
    sandbox: Sandbox, content: OutboundContent
) -> None:
    with pytest.raises(PermanentProviderError) as caught:
        await client(sandbox.http, sandbox.url).send(chattigo_account(), message(content))
    assert caught.value.code == "unsupported_content"
    assert not caught.value.retryable
    assert await sandbox.outbox("chattigo", "message") == []


async def test_one_login_serves_many_sends(sandbox: Sandbox) -> None:
    chattigo = client(sandbox.http, sandbox.url)
    account = chattigo_account()
    for _ in range(3):
        await chattigo.send(account, message(TextContent(body="hola"), event_id=uuid.uuid4()))
    assert len(await sandbox.outbox("chattigo", "login")) == 1
    assert len(await sandbox.outbox("chattigo", "message")) == 3


async def test_concurrent_sends_share_one_login(sandbox: Sandbox) -> None:
    chattigo = client(sandbox.http, sandbox.url)
    account = chattigo_account()
    await asyncio.gather(
        *(
            chattigo.send(account, message(TextContent(body=f"m{i}"), event_id=uuid.uuid4()))
            for i in range(20)
        )
    )
    assert len(await sandbox.outbox("chattigo", "login")) == 1
    assert len(await sandbox.outbox("chattigo", "message")) == 20


async def test_token_expired_mid_run_relogs_once_and_delivers(sandbox: Sandbox) -> None:
    chattigo = client(sandbox.http, sandbox.url)
    account = chattigo_account()
    await chattigo.send(account, message(TextContent(body="antes"), event_id=uuid.uuid4()))
    expired = await sandbox.http.post(f"{sandbox.url}/sandbox/chattigo/tokens/expire")
    assert expired.json() == {"expired": 1}

    await asyncio.gather(
        *(
            chattigo.send(account, message(TextContent(body=f"d{i}"), event_id=uuid.uuid4()))
            for i in range(5)
        )
    )

    assert len(await sandbox.outbox("chattigo", "login")) == 2
    bodies = [e["payload"]["content"] for e in await sandbox.outbox("chattigo", "message")]
    assert sorted(bodies) == ["antes", "d0", "d1", "d2", "d3", "d4"]


async def test_the_token_is_renewed_before_it_expires(sandbox: Sandbox) -> None:
    now = [time.time()]
    chattigo = client(
        sandbox.http,
        sandbox.url,
        token_ttl=timedelta(hours=8),
        renew_before=timedelta(minutes=5),
        clock=lambda: now[0],
    )
    account = chattigo_account()
    await chattigo.send(account, message(TextContent(body="a"), event_id=uuid.uuid4()))
    now[0] += 8 * 3600 - 6 * 60  # 6 min before expiry: still good
    await chattigo.send(account, message(TextContent(body="b"), event_id=uuid.uuid4()))
    assert len(await sandbox.outbox("chattigo", "login")) == 1
    now[0] += 2 * 60  # 4 min before expiry: renew
    await chattigo.send(account, message(TextContent(body="c"), event_id=uuid.uuid4()))
    assert len(await sandbox.outbox("chattigo", "login")) == 2
    assert len(await sandbox.outbox("chattigo", "message")) == 3


async def test_a_short_lived_token_from_the_fake_is_renewed_by_its_exp() -> None:
    async with (
        serve_sandbox(sandbox_settings(chattigo_token_ttl_s=1.0)) as url,
        httpx.AsyncClient(timeout=5.0) as http,
    ):
        now = [time.time()]
        chattigo = client(http, url, renew_before=timedelta(0), clock=lambda: now[0])
        account = chattigo_account()
        await chattigo.send(account, message(TextContent(body="a"), event_id=uuid.uuid4()))
        now[0] += 5  # past the JWT's exp: the client must not even try the old token
        await chattigo.send(account, message(TextContent(body="b"), event_id=uuid.uuid4()))
        logins = (await http.get(f"{url}/sandbox/outbox", params={"provider": "chattigo"})).json()
        assert [e["kind"] for e in logins] == ["login", "message", "login", "message"]


async def test_wrong_password_is_credentials_rejected(sandbox: Sandbox) -> None:
    with pytest.raises(CredentialsRejected) as caught:
        await client(sandbox.http, sandbox.url).send(
            chattigo_account(password="nope"), message(TextContent(body="x"))
        )
    assert caught.value.retryable
    assert await sandbox.outbox("chattigo") == []


async def test_a_401_after_a_fresh_login_is_credentials_rejected(sandbox: Sandbox) -> None:
    """The fake refuses even fresh tokens when its tokens are born dead (ttl 0)."""
    async with (
        serve_sandbox(sandbox_settings(chattigo_token_ttl_s=0)) as url,
        httpx.AsyncClient(timeout=5.0) as http,
    ):
        chattigo = client(http, url)
        with pytest.raises(CredentialsRejected) as caught:
            await chattigo.send(chattigo_account(), message(TextContent(body="x")))
        assert caught.value.http_status == 401
        entries = (await http.get(f"{url}/sandbox/outbox", params={"provider": "chattigo"})).json()
        assert [e["kind"] for e in entries] == ["login", "login"]
