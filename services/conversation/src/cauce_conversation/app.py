"""Conversation service bootstrap. The bot flows arrive with their issue; today it
connects to the bus and MongoDB and reports both in /readyz."""

from __future__ import annotations

from fastapi import FastAPI
from pymongo import AsyncMongoClient

from cauce_conversation.settings import ConversationSettings
from cauce_runtime.app import create_service_app
from cauce_runtime.bus import Bus


def create_app(settings: ConversationSettings | None = None) -> FastAPI:
    settings = settings or ConversationSettings()
    mongo: AsyncMongoClient[dict[str, object]] = AsyncMongoClient(
        settings.mongodb_url, serverSelectionTimeoutMS=2000, connect=False
    )

    async def mongodb_reachable() -> bool:
        await mongo.admin.command("ping")
        return True

    async def close_mongo(app: FastAPI) -> None:
        await mongo.close()

    return create_service_app(
        settings,
        bus=Bus(settings),
        readiness={"mongodb": mongodb_reachable},
        on_shutdown=[close_mongo],
        title="cauce conversation",
        description="Conversation state and bot flows (MongoDB).",
    )
