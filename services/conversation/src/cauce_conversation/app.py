"""Conversation service bootstrap: one place that wires store, bus, flow and consumers.

Customer messages and payments' answers drive the bot (:mod:`cauce_conversation.turns`);
the inbox API (:mod:`cauce_conversation.inbox`) lets agents read, assign and answer.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from fastapi import FastAPI
from pymongo import AsyncMongoClient

from cauce_conversation.consumers import register_consumers
from cauce_conversation.flows import VehicleTaxFlow
from cauce_conversation.flows.vocabulary import Flow
from cauce_conversation.inbox import inbox_router
from cauce_conversation.settings import ConversationSettings
from cauce_conversation.store import ConversationStore
from cauce_conversation.turns import Turns
from cauce_runtime import Bus, create_service_app


def create_app(
    settings: ConversationSettings | None = None, *, flow: Flow | None = None
) -> FastAPI:
    settings = settings or ConversationSettings()
    mongo: AsyncMongoClient[dict[str, Any]] = AsyncMongoClient(
        settings.mongodb_url, serverSelectionTimeoutMS=2000, connect=False, tz_aware=True
    )
    store = ConversationStore(mongo, settings.mongodb_database)
    bus = Bus(settings)
    flow = flow or VehicleTaxFlow(copy=settings.bot_copy)
    turns = Turns(store, bus, flow, idle_expiry=timedelta(minutes=settings.idle_expiry_minutes))
    register_consumers(bus, turns)

    async def open_store() -> None:
        await store.ensure_indexes()

    async def close_mongo() -> None:
        await mongo.close()

    app = create_service_app(
        settings,
        bus=bus,
        readiness={"mongodb": store.ping},
        routers=[inbox_router()],
        on_prepare=[open_store],
        on_closed=[close_mongo],
        title="cauce conversation",
        description="Conversation state, bot flows (MongoDB) and the agents' inbox API.",
    )
    app.state.conversations = store
    app.state.flow = flow
    return app
