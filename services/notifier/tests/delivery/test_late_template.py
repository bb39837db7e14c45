"""A free-form message whose 24-hour window closed goes as the configured template (a
payment confirmed a day after the customer last wrote still arrives), on the real
send path against the Graph fake, which checks the template and its parameters."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from cauce_contracts.outbound import TextContent
from cauce_devstack.servers import NatsServer

from .conftest import CUSTOMER, Stack, running_stack, sandbox_settings

LATE = {"name": "mensaje_fuera_de_ventana", "language": "es"}


@pytest.fixture
async def stack(nats_server: NatsServer, database_url: str, tmp_path: Path) -> AsyncIterator[Stack]:
    sandbox = sandbox_settings()  # the notifier's own window is under test
    async with running_stack(
        nats_server, database_url, tmp_path, sandbox, out_of_window_template=LATE
    ) as running:
        yield running


async def test_a_late_message_arrives_as_the_out_of_window_template(stack: Stack) -> None:
    request = await stack.request(TextContent(body="Tu pago de $954.688 fue confirmado."))

    async def sent() -> bool:
        return (await stack.message(request.event_id)).get("status") == "sent"

    await stack.wait_for(sent, what="the late message to be sent")
    [entry] = await stack.outbox()
    assert entry["payload"]["to"] == CUSTOMER
    assert entry["payload"]["template"] == {
        "name": "mensaje_fuera_de_ventana",
        "language": {"code": "es"},
        "components": [
            {
                "type": "body",
                "parameters": [{"type": "text", "text": "Tu pago de $954.688 fue confirmado."}],
            }
        ],
    }
    detail = await stack.message(request.event_id)
    assert "mensaje_fuera_de_ventana" in detail["degradation"]
    assert detail["content"]["type"] == "text"  # what was asked is kept on record


async def test_inside_the_window_the_message_goes_as_written(stack: Stack) -> None:
    await stack.customer_wrote()
    request = await stack.request(TextContent(body="Hola de nuevo"))

    async def sent() -> bool:
        return (await stack.message(request.event_id)).get("status") == "sent"

    await stack.wait_for(sent, what="the message to be sent")
    [entry] = await stack.outbox()
    assert entry["payload"]["type"] == "text"
    assert (await stack.message(request.event_id))["degradation"] is None
