"""Conversation service test fixtures: a MongoDB store on its own database per test.

The suite says which MongoDB it ran against (the store contract holds on both): the
report header when these tests are among the paths given to pytest, else one line in
the terminal summary.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Callable
from typing import Any

import pytest
from pymongo import AsyncMongoClient

from cauce_contracts.subjects import Channel
from cauce_conversation.model import Conversation, conversation_id
from cauce_conversation.store import ConversationStore
from cauce_devstack.servers.mongo import mongo_url_from_env

_header_shown = False


def mongo_backend_line() -> str:
    if mongo_url_from_env() is not None:
        return "MongoDB: MONGODB_URL (real MongoDB)"
    return "MongoDB: SecantusDB stand-in"


def pytest_report_header(config: pytest.Config) -> str:
    global _header_shown
    _header_shown = True
    return mongo_backend_line()


def pytest_terminal_summary(terminalreporter: Any) -> None:
    # pytest asks only the conftests it loads at start for the header; when this one was
    # found later (``pytest`` over the whole workspace), say it at the end instead.
    if not _header_shown:
        terminalreporter.write_line(mongo_backend_line())


@pytest.fixture
async def mongo_client(mongo_url: str) -> AsyncIterator[AsyncMongoClient[dict[str, Any]]]:
    client: AsyncMongoClient[dict[str, Any]] = AsyncMongoClient(
        mongo_url, tz_aware=True, serverSelectionTimeoutMS=5000
    )
    try:
        yield client
    finally:
        await client.close()


@pytest.fixture
async def store_database(mongo_client: AsyncMongoClient[dict[str, Any]]) -> AsyncIterator[str]:
    """The name of a database of this test's own, dropped afterwards."""
    database = f"conversation_{uuid.uuid4().hex[:12]}"
    try:
        yield database
    finally:
        await mongo_client.drop_database(database)


@pytest.fixture
async def conversation_store(
    mongo_client: AsyncMongoClient[dict[str, Any]], store_database: str
) -> ConversationStore:
    """A store with its indexes on the test's own database."""
    store = ConversationStore(mongo_client, store_database)
    await store.ensure_indexes()
    return store


@pytest.fixture
def make_conversation() -> Callable[..., Conversation]:
    """A factory of valid conversations: ``make_conversation(contact="5730...", **fields)``."""

    def make(contact: str = "573001234567", tenant: str = "acme", **fields: Any) -> Conversation:
        key = uuid.uuid5(uuid.NAMESPACE_OID, contact).hex[:24]
        values: dict[str, Any] = {
            "id": conversation_id(tenant, Channel.WHATSAPP, key),
            "tenant_id": tenant,
            "channel": Channel.WHATSAPP,
            "contact_key": key,
            "channel_account_id": "734053143122597",
            "contact_address": contact,
            "flow": "vehicle_tax",
            "step": "start",
        }
        values.update(fields)
        return Conversation(**values)

    return make
