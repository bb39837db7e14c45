"""The conversation's bootstrap object: settings, bus, MongoDB store, flow and turns,
built once at start (:meth:`ConversationService.build`); the inbox routes reach it as
:data:`ConversationDep`, the consumers are declared over its turns."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from typing import Annotated, Any

import httpx
from fastapi import Depends
from pymongo import AsyncMongoClient

from cauce_contracts.media import MEDIA_BUCKET
from cauce_conversation.assist.company_settings import Assistants, AssistSettingsStore
from cauce_conversation.assist.generation import Generator
from cauce_conversation.assist.usage import UsageLedger
from cauce_conversation.chat_feed import ChatFeed
from cauce_conversation.company_bots import CompanyBots
from cauce_conversation.flows import VehicleTaxFlow
from cauce_conversation.flows.vocabulary import Flow
from cauce_conversation.media_links import MediaLinks
from cauce_conversation.settings import ConversationSettings
from cauce_conversation.store import ConversationStore
from cauce_conversation.turns import Turns
from cauce_runtime import Bus, wired
from cauce_runtime.bus import FileStore
from cauce_runtime.calls import traced_http_client


@dataclass
class ConversationService:
    settings: ConversationSettings
    bus: Bus
    mongo: AsyncMongoClient[dict[str, Any]]
    store: ConversationStore
    flow: Flow
    turns: Turns
    #: Announces chat changes to agents' screens (``inbox.chat.changed``).
    feed: ChatFeed
    #: Customers' files in the ``media`` object store, and agents' links to them.
    files: FileStore
    media_links: MediaLinks
    #: AI assist: each company's provider, the results kept, the usage recorded.
    assist: Generator
    #: The traced client of calls to model APIs.
    http: httpx.AsyncClient

    @classmethod
    def build(
        cls, settings: ConversationSettings, *, flow: Flow | None = None, bus: Bus | None = None
    ) -> ConversationService:
        """Everything built, nothing connected yet (MongoDB connects on first use)."""
        mongo: AsyncMongoClient[dict[str, Any]] = AsyncMongoClient(
            settings.mongodb_url, serverSelectionTimeoutMS=2000, connect=False, tz_aware=True
        )
        store = ConversationStore(mongo, settings.mongodb_database)
        bus = bus or Bus(settings)
        flow = flow or VehicleTaxFlow(copy=settings.bot_copy)
        idle_expiry = timedelta(minutes=settings.idle_expiry_minutes)
        feed = ChatFeed(bus)
        turns = Turns(store, bus, flow, idle_expiry=idle_expiry, bots=CompanyBots(), feed=feed)
        files = FileStore(bus, MEDIA_BUCKET)
        links = MediaLinks(
            settings.media_link_key.get_secret_value().encode(), settings.media_link_ttl_s
        )
        http = traced_http_client(timeout=settings.ai_timeout_s)
        assistants = Assistants(
            AssistSettingsStore(store.database, settings.credentials_cipher()),
            http,
            settings.ai_endpoints,
            settings.ai_prices,
            attempts=settings.ai_attempts,
        )
        assist = Generator(store, assistants, UsageLedger(store.database))
        return cls(settings, bus, mongo, store, flow, turns, feed, files, links, assist, http)

    async def open(self) -> None:
        """Before the bus starts: the store's indexes exist."""
        await self.store.ensure_indexes()
        await self.assist.usage.ensure_indexes()

    async def close(self) -> None:
        """After the bus stopped and its consumers finished."""
        await self.http.aclose()
        await self.mongo.close()


#: What an inbox route or dependency takes to reach the service wired at start.
ConversationDep = Annotated[ConversationService, Depends(wired(ConversationService))]
