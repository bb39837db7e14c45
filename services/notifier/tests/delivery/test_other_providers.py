"""Chattigo and YCloud accounts through the whole notifier (not only their clients)."""

from __future__ import annotations

from pathlib import Path

from pydantic import SecretStr

from cauce_contracts.outbound import (
    OutboundMessageSent,
    ReplyButton,
    ReplyButtonsContent,
    TextContent,
)
from cauce_contracts.subjects import Channel
from cauce_devstack.sandbox.settings import (
    DEV_CHATTIGO_PASSWORD,
    DEV_CHATTIGO_USERNAME,
    DEV_YCLOUD_API_KEY,
)
from cauce_devstack.servers import NatsServer
from cauce_notifier.settings import DeclaredAccount

from .conftest import CUSTOMER, TENANT, Stack, running_stack

CHATTIGO_DID = "5492644710400"
YCLOUD_NUMBER = "573105550100"


def declared(channel: str, account_id: str, **credentials: str) -> DeclaredAccount:
    return DeclaredAccount(
        tenant_id=TENANT,
        channel=channel,  # type: ignore[arg-type]
        account_id=account_id,
        credentials={k: SecretStr(v) for k, v in credentials.items()},
    )


async def wait_sent(stack: Stack, count: int) -> list[OutboundMessageSent]:
    async def enough() -> bool:
        return (
            len([e for e in await stack.outcomes() if isinstance(e, OutboundMessageSent)]) >= count
        )

    await stack.wait_for(enough, what=f"{count} sent events")
    return [e for e in await stack.outcomes() if isinstance(e, OutboundMessageSent)]


async def test_chattigo_gets_its_own_format_and_buttons_degrade_to_numbered_text(
    nats_server: NatsServer, database_url: str, tmp_path: Path
) -> None:
    account = declared(
        "chattigo", CHATTIGO_DID, username=DEV_CHATTIGO_USERNAME, password=DEV_CHATTIGO_PASSWORD
    )
    async with running_stack(nats_server, database_url, tmp_path, accounts=[account]) as stack:
        await stack.customer_wrote(channel=Channel.CHATTIGO, account_id=CHATTIGO_DID)
        request = await stack.request(
            ReplyButtonsContent(
                body="¿Deseas pagar ahora?",
                buttons=[ReplyButton(id="si", title="Sí"), ReplyButton(id="no", title="No")],
            ),
            channel=Channel.CHATTIGO,
            account_id=CHATTIGO_DID,
        )
        [sent] = await wait_sent(stack, 1)
        [wire] = await stack.outbox("chattigo")
        assert wire["payload"]["did"] == CHATTIGO_DID
        assert wire["payload"]["msisdn"] == CUSTOMER
        assert wire["payload"]["type"] == "text"
        assert "1. Sí" in wire["payload"]["content"] and "2. No" in wire["payload"]["content"]
        assert sent.provider_message_id == wire["payload"]["id"]
        stored = await stack.message(request.event_id)
        assert stored["status"] == "sent"
        assert "numbered" in (stored["degradation"] or "")


async def test_ycloud_sends_with_its_api_key(
    nats_server: NatsServer, database_url: str, tmp_path: Path
) -> None:
    account = declared("ycloud", YCLOUD_NUMBER, api_key=DEV_YCLOUD_API_KEY)
    async with running_stack(nats_server, database_url, tmp_path, accounts=[account]) as stack:
        await stack.customer_wrote(channel=Channel.YCLOUD, account_id=YCLOUD_NUMBER)
        await stack.request(
            TextContent(body="Hola desde YCloud"), channel=Channel.YCLOUD, account_id=YCLOUD_NUMBER
        )
        [sent] = await wait_sent(stack, 1)
        [wire] = await stack.outbox("ycloud")
        assert wire["payload"]["text"] == {"body": "Hola desde YCloud", "preview_url": False}
        assert wire["payload"]["from"].lstrip("+") == YCLOUD_NUMBER
        assert sent.provider_message_id == wire["message_id"]
