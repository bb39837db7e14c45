"""The inbox APIs (``/conversations`` and ``/api/chats``) served in-process over a
conversation service on real NATS and MongoDB (SecantusDB unless MONGODB_URL), with
access tokens signed by a throwaway key the service pins."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

from cauce_contracts.envelope import utc_now
from cauce_contracts.identity import Permission
from cauce_conversation import inbox as inbox_api
from cauce_conversation.app import create_app
from cauce_conversation.assignment import routes as assignment_routes
from cauce_conversation.assist import routes as assist_routes
from cauce_conversation.assist import settings_routes as assist_settings_routes
from cauce_conversation.bootstrap import ConversationService
from cauce_conversation.model import Conversation, MessageRecord
from cauce_conversation.settings import ConversationSettings
from cauce_conversation.store import ConversationStore
from cauce_devstack.minted_tokens import TokenMinter
from cauce_devstack.servers import free_port
from cauce_devstack.testing import serving
from cauce_runtime import Bus, create_service_app
from cauce_runtime.identity import TokenVerifier

MINTER = TokenMinter()
#: An agent supervisor of acme: every inbox permission.
AUTH = MINTER.headers(
    "acme",
    Permission.CHATS_READ,
    Permission.CHATS_READ_ALL,
    Permission.CHATS_REPLY,
    Permission.CHATS_ASSIGN,
    Permission.CHATS_MANAGE,
)


@dataclass
class Inbox:
    client: httpx.AsyncClient
    #: What the routes are wired to (its ``store`` may be swapped for a test double).
    service: ConversationService
    bus: Bus
    #: The test's own store on the same database, to set up and check.
    store: ConversationStore


@pytest.fixture
def settings_overrides() -> dict[str, Any]:
    """More conversation settings for a module's tests (override the fixture)."""
    return {}


@pytest.fixture
async def inbox(
    nats_url: str,
    mongo_url: str,
    store_database: str,
    conversation_store: ConversationStore,
    tmp_path: Path,
    settings_overrides: dict[str, Any],
) -> AsyncIterator[Inbox]:
    settings = ConversationSettings(
        environment="test",
        nats_url=nats_url,
        mongodb_url=mongo_url,
        mongodb_database=store_database,
        identity_public_keys=MINTER.jwks,
        span_file=tmp_path / "spans.jsonl",
        **settings_overrides,
    )
    # The inbox alone: the service's store, bus and flow, without its consumers.
    service = ConversationService.build(settings)
    app = create_service_app(
        settings,
        bus=service.bus,
        wiring=service,
        verifier=TokenVerifier.for_service(settings),
        routers=[
            inbox_api.router,
            inbox_api.chats_router,
            inbox_api.quick_replies_router,
            inbox_api.appointments_router,
            inbox_api.media_router,
            inbox_api.uploads_router,
            assist_settings_routes.router,
            assist_routes.router,
            assignment_routes.router,
        ],
        on_prepare=[service.open],
        on_closed=[service.close],
    )
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(
            transport=transport, base_url="http://inbox", headers=AUTH
        ) as client:
            yield Inbox(client, service, service.bus, conversation_store)


@pytest.fixture
async def service_url(
    nats_url: str,
    mongo_url: str,
    store_database: str,
    tmp_path: Path,
    settings_overrides: dict[str, Any],
) -> AsyncIterator[str]:
    """The whole conversation service (consumers too) on a port of its own."""
    settings = ConversationSettings(
        environment="test",
        port=free_port(),
        nats_url=nats_url,
        mongodb_url=mongo_url,
        mongodb_database=store_database,
        identity_public_keys=MINTER.jwks,
        span_file=tmp_path / "spans.jsonl",
        **settings_overrides,
    )
    async with serving(create_app(settings), settings.port) as url:
        yield url


async def chat_with(
    inbox: Inbox, make: Callable[..., Conversation], contact: str, *texts: tuple[str, str]
) -> Conversation:
    """A chat of Camila Rojas with ``texts`` (``(who, text)``: ``customer`` is inbound,
    anyone else outbound), stored through the test's store."""
    chat = await inbox.store.create(make(contact=contact, profile_name="Camila Rojas"))
    for n, (who, text) in enumerate(texts):
        await inbox.store.add_message(
            MessageRecord(
                id=f"{chat.id}:{n}",
                conversation_id=chat.id,
                tenant_id=chat.tenant_id,
                direction="inbound" if who == "customer" else "outbound",
                author=who,
                type="text",
                text=text,
                at=utc_now(),
            )
        )
    return chat
