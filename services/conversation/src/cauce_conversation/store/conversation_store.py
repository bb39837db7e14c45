"""Conversations, their messages and reports in MongoDB, through PyMongo's async client.

Collections (``_id`` is the model's ``id`` everywhere):

- ``conversations``: one document per (tenant, channel, contact). Every write is a
  compare-and-set on ``version`` (:meth:`ConversationStore.save`): two replicas (or an
  agent and the bot) that read the same version cannot both write; the loser re-reads.
  CAS uses ``replace_one`` with the version in the filter: SecantusDB's
  ``find_one_and_update`` slows down as a collection grows.
- ``messages``: one document per message, inbound and outbound, so history never
  grows a conversation document. The ``_id`` (``{channel}:{provider message id}`` for
  inbound) makes a replayed message a duplicate-key no-op.
- ``reports``: debt lookups and transactions; unique per (tenant, SCI transaction id)
  for transactions, so a conversation can be found from a payment webhook.

Connectivity failures surface as :class:`~cauce_conversation.store.errors.StoreUnavailable`
(a ``TransientError``): consumers nak and retry.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from typing import Any

from bson.codec_options import CodecOptions
from pymongo import ASCENDING, DESCENDING, AsyncMongoClient, IndexModel
from pymongo.asynchronous.collection import AsyncCollection
from pymongo.asynchronous.database import AsyncDatabase
from pymongo.errors import DuplicateKeyError

from cauce_conversation.model import (
    DELIVERY_RANK,
    Conversation,
    ConversationStatus,
    DeliveryStatus,
    MessageMedia,
    MessageRecord,
    Report,
)
from cauce_conversation.store.documents import (
    Document,
    bson_time,
    from_document,
    now_ms,
    server_now,
    stored_form,
    to_document,
)
from cauce_conversation.store.errors import unavailable_as_transient
from cauce_runtime import decode_cursor, encode_cursor

#: Datetimes come back timezone-aware in UTC whatever the client was created with.
_CODEC_OPTIONS: CodecOptions[Document] = CodecOptions(tz_aware=True, tzinfo=UTC)

_CONVERSATION_INDEXES = [
    IndexModel(
        [("tenant_id", ASCENDING), ("updated_at", DESCENDING), ("_id", DESCENDING)],
        name="tenant_updated",
    ),
    IndexModel(
        [("tenant_id", ASCENDING), ("status", ASCENDING), ("updated_at", DESCENDING)],
        name="tenant_status_updated",
    ),
    IndexModel(
        [("tenant_id", ASCENDING), ("assignee", ASCENDING), ("updated_at", DESCENDING)],
        name="tenant_assignee_updated",
    ),
    # the assigner's questions: which chats wait, and how many each agent holds
    IndexModel(
        [("status", ASCENDING), ("assignee", ASCENDING), ("queued_at", ASCENDING)],
        name="waiting",
    ),
    # the snooze waker's question: which snoozed conversations are due
    IndexModel([("status", ASCENDING), ("snoozed_until", ASCENDING)], name="status_snoozed_until"),
]
_MESSAGE_INDEXES = [
    IndexModel(
        [("conversation_id", ASCENDING), ("at", ASCENDING), ("_id", ASCENDING)],
        name="conversation_at",
    ),
]
_REPORT_INDEXES = [
    # Partial: debt lookups have no transaction id and must not collide on null.
    IndexModel(
        [("tenant_id", ASCENDING), ("transaction_id", ASCENDING)],
        name="tenant_transaction_unique",
        unique=True,
        partialFilterExpression={"kind": "transaction"},
    ),
    IndexModel([("conversation_id", ASCENDING), ("at", ASCENDING)], name="conversation_at"),
]

_ONE_MS = timedelta(milliseconds=1)
#: A chat waiting for an agent, and the statuses of a chat an agent holds.
_WAITING: Document = {
    "status": str(ConversationStatus.PENDING),
    "assignee": None,
    "queued_at": {"$ne": None},
}
_HELD = [str(ConversationStatus.OPEN), str(ConversationStatus.PENDING)]
#: The queue of chats no team was named for (cauce_conversation.assignment.roster).
DEFAULT_TEAM = "general"
_NEWEST_FIRST = [("updated_at", DESCENDING), ("_id", DESCENDING)]
_OLDEST_FIRST = [("at", ASCENDING), ("_id", ASCENDING)]


class ConversationStore:
    """The conversation service's persistence on one MongoDB database."""

    def __init__(self, client: AsyncMongoClient[Any], database: str) -> None:
        db = client.get_database(database, codec_options=_CODEC_OPTIONS)
        self._conversations: AsyncCollection[Document] = db.get_collection("conversations")
        self._messages: AsyncCollection[Document] = db.get_collection("messages")
        self._reports: AsyncCollection[Document] = db.get_collection("reports")
        self._db = db

    async def ensure_indexes(self) -> None:
        """Create the indexes the queries need; a no-op when they exist (call at start)."""
        with unavailable_as_transient("ensure_indexes"):
            await self._conversations.create_indexes(_CONVERSATION_INDEXES)
            await self._messages.create_indexes(_MESSAGE_INDEXES)
            await self._reports.create_indexes(_REPORT_INDEXES)

    @property
    def database(self) -> AsyncDatabase[Document]:
        """The database (the assigner keeps its roster and leases next to the chats)."""
        return self._db

    async def ping(self) -> bool:
        """True when the database answers (for ``/readyz``)."""
        with unavailable_as_transient("ping"):
            await self._db.command("ping")
        return True

    # --- conversations -------------------------------------------------------------

    async def get(self, conversation_id: str) -> Conversation | None:
        with unavailable_as_transient("get conversation"):
            document = await self._conversations.find_one({"_id": conversation_id})
        return None if document is None else from_document(Conversation, document)

    async def create(self, conversation: Conversation) -> Conversation:
        """Insert ``conversation``; if it exists already (another replica created it
        first), the stored one is returned, so racing creators converge on one."""
        stored = stored_form(conversation)
        with unavailable_as_transient("create conversation"):
            try:
                await self._conversations.insert_one(to_document(stored))
                return stored
            except DuplicateKeyError:
                existing = await self._conversations.find_one({"_id": conversation.id})
        if existing is None:  # inserted then deleted in between: nothing to converge on
            raise RuntimeError(f"conversation {conversation.id} vanished during create")
        return from_document(Conversation, existing)

    async def save(self, conversation: Conversation) -> Conversation | None:
        """Compare-and-set: write ``conversation`` if the stored version is still
        ``conversation.version``; returns it with ``version + 1`` and ``updated_at`` now.

        None means someone else wrote since it was read (or it does not exist): re-read
        with :meth:`get`, re-apply the change and try again.
        """
        written = conversation.model_copy(
            update={"version": conversation.version + 1, "updated_at": now_ms()}
        )
        written = stored_form(written)
        with unavailable_as_transient("save conversation"):
            result = await self._conversations.replace_one(
                {"_id": conversation.id, "version": conversation.version}, to_document(written)
            )
        return written if result.matched_count == 1 else None

    async def list_conversations(
        self,
        tenant_id: str,
        *,
        status: ConversationStatus | None = None,
        assignee: str | None = None,
        updated_since: datetime | None = None,
        limit: int = 50,
        cursor: str | None = None,
        pinned_by: str | None = None,
        priority: str | None = None,
        unassigned: bool = False,
        label: str | None = None,
        channel: str | None = None,
        team: str | None = None,
        unread: bool | None = None,
        among: list[str] | None = None,
        within: Document | None = None,
    ) -> tuple[list[Conversation], str | None]:
        """One page of a tenant's conversations, most recently updated first.

        ``cursor`` is the previous page's ``next_cursor`` (None for the first page; None
        back means no more pages). Keyset on ``(updated_at, id)``: conversations created
        meanwhile sort before the cursor and never repeat an item; one updated while a
        client pages moves to the front (poll with ``updated_since`` to catch it).
        ``within`` narrows to a caller's scope (a condition of its own).
        """
        query: Document = {"tenant_id": tenant_id}
        if within is not None:
            query["$and"] = [within]
        if status is not None:
            query["status"] = str(status)
        if assignee is not None:
            query["assignee"] = assignee
        elif unassigned:
            query["assignee"] = None
        if pinned_by is not None:
            query["pinned_by"] = pinned_by
        if priority is not None:
            query["priority"] = priority
        if label is not None:
            query["labels"] = label
        if channel is not None:
            query["channel"] = channel
        if team is not None:
            query["team"] = {"$in": [team, None]} if team == DEFAULT_TEAM else team
        if unread is not None:
            query["unread"] = True if unread else {"$ne": True}
        if among is not None:
            query["_id"] = {"$in": among}
        if updated_since is not None:
            # ``>= since`` written as ``> since - 1 ms`` (the same on millisecond BSON
            # dates): SecantusDB drops the boundary of an inclusive range on a compound
            # index's inner key (``$gte`` here matched only later conversations).
            query["updated_at"] = {"$gt": bson_time(updated_since) - _ONE_MS}
        if cursor is not None:
            at, last_id = decode_cursor("conversations", cursor, datetime, str)
            query["$or"] = [
                {"updated_at": {"$lt": at}},
                {"updated_at": at, "_id": {"$lt": last_id}},
            ]
        documents = await self._page(self._conversations, query, _NEWEST_FIRST, limit)
        items = [from_document(Conversation, document) for document in documents[:limit]]
        next_cursor = (
            encode_cursor("conversations", items[-1].updated_at, items[-1].id)
            if len(documents) > limit
            else None
        )
        return items, next_cursor

    async def count_by_status(
        self, tenant_id: str, *, within: Document | None = None
    ) -> dict[str, int]:
        """How many of the tenant's conversations (``within`` a caller's scope) are in
        each status."""
        narrowed: Document = {"$and": [within]} if within is not None else {}
        with unavailable_as_transient("count conversations"):
            return {
                str(status): await self._conversations.count_documents(
                    {"tenant_id": tenant_id, "status": str(status), **narrowed}
                )
                for status in ConversationStatus
            }

    async def waiting(self, tenant_id: str, limit: int = 200) -> list[Conversation]:
        """The tenant's chats waiting for an agent, longest waiting first."""
        with unavailable_as_transient("waiting chats"):
            documents = (
                await self._conversations.find({**_WAITING, "tenant_id": tenant_id})
                .sort([("queued_at", ASCENDING), ("_id", ASCENDING)])
                .limit(limit)
                .to_list()
            )
        return [from_document(Conversation, document) for document in documents]

    async def waiting_tenants(self, limit: int = 1000) -> list[str]:
        """The tenants with a chat waiting for an agent."""
        with unavailable_as_transient("waiting tenants"):
            documents = (
                await self._conversations.find(_WAITING, {"tenant_id": 1}).limit(limit).to_list()
            )
        return sorted({document["tenant_id"] for document in documents})

    async def agent_load(self, tenant_id: str, user_id: str) -> int:
        """The open and pending chats an agent holds."""
        with unavailable_as_transient("agent load"):
            return await self._conversations.count_documents(
                {"tenant_id": tenant_id, "assignee": user_id, "status": {"$in": _HELD}}
            )

    async def team_load(self, tenant_id: str, team: str) -> int:
        """The open and pending chats the team's agents hold (``general`` counts the
        chats no team was named for)."""
        teams: list[str | None] = [team, None] if team == DEFAULT_TEAM else [team]
        with unavailable_as_transient("team load"):
            return await self._conversations.count_documents(
                {
                    "tenant_id": tenant_id,
                    "team": {"$in": teams},
                    "assignee": {"$ne": None},
                    "status": {"$in": _HELD},
                }
            )

    async def due_snoozed(self, limit: int = 100) -> list[Conversation]:
        """Snoozed conversations whose time has come (every tenant's), oldest first.

        "Now" is the database server's clock (:func:`server_now`), not this process's."""
        with unavailable_as_transient("due snoozed"):
            now = await server_now(self._db)
            documents = (
                await self._conversations.find(
                    {
                        "status": str(ConversationStatus.SNOOZED),
                        "snoozed_until": {"$lte": now},
                    }
                )
                .sort([("snoozed_until", ASCENDING)])
                .limit(limit)
                .to_list()
            )
        return [from_document(Conversation, document) for document in documents]

    # --- messages ------------------------------------------------------------------

    async def add_message(self, message: MessageRecord) -> bool:
        """Record ``message``; False when its id is already there (a replay)."""
        with unavailable_as_transient("add message"):
            try:
                await self._messages.insert_one(to_document(stored_form(message)))
            except DuplicateKeyError:
                return False
        return True

    async def mark_turn_taken(self, message_id: str) -> None:
        """Note that the turn for the (inbound) message was written."""
        with unavailable_as_transient("mark turn taken"):
            await self._messages.update_one({"_id": message_id}, {"$set": {"turn_taken": True}})

    async def turn_taken(self, message_id: str) -> bool:
        """Whether :meth:`mark_turn_taken` was called for the message."""
        with unavailable_as_transient("turn taken"):
            found = await self._messages.find_one(
                {"_id": message_id, "turn_taken": True}, {"_id": 1}
            )
        return found is not None

    async def forget_message(self, message_id: str) -> None:
        """Remove a message recorded for a send that then never went out."""
        with unavailable_as_transient("forget message"):
            await self._messages.delete_one({"_id": message_id})

    async def conversations_mentioning(
        self, tenant_id: str, text: str, since: datetime, limit: int = 500
    ) -> list[str]:
        """Ids of the tenant's conversations with a message since ``since`` containing
        ``text`` (case-insensitive, literally: no pattern syntax from the caller)."""
        with unavailable_as_transient("search messages"):
            documents = (
                await self._messages.find(
                    {
                        "tenant_id": tenant_id,
                        "at": {"$gt": bson_time(since) - _ONE_MS},
                        "text": {"$regex": re.escape(text), "$options": "i"},
                    },
                    {"conversation_id": 1},
                )
                .limit(limit)
                .to_list()
            )
        return list(dict.fromkeys(str(d["conversation_id"]) for d in documents))

    async def record_delivery(self, message_id: str, delivery: DeliveryStatus) -> str | None:
        """Move a message's delivery status forward (never back: a late ``delivered``
        after ``read`` changes nothing); the message's conversation id when it moved."""
        rank = DELIVERY_RANK[delivery.status]
        with unavailable_as_transient("record delivery"):
            moved = await self._messages.update_one(
                {
                    "_id": message_id,
                    "$or": [
                        {"delivery_rank": {"$lt": rank}},
                        {"delivery_rank": {"$exists": False}},
                    ],
                },
                {"$set": {"delivery": delivery.model_dump(), "delivery_rank": rank}},
            )
            if moved.modified_count == 0:
                return None
            document = await self._messages.find_one({"_id": message_id}, {"conversation_id": 1})
        return None if document is None else str(document["conversation_id"])

    async def attach_media(
        self, tenant_id: str, message_id: str, media: MessageMedia
    ) -> str | None:
        """Put the file on its message (of ``tenant_id``); the message's conversation id
        (None when the message is not recorded yet)."""
        with unavailable_as_transient("attach media"):
            document = await self._messages.find_one_and_update(
                {"_id": message_id, "tenant_id": tenant_id},
                {"$set": {"media": media.model_dump()}},
                {"conversation_id": 1},
            )
        return None if document is None else str(document["conversation_id"])

    async def list_messages(
        self, conversation_id: str, *, limit: int = 50, cursor: str | None = None
    ) -> tuple[list[MessageRecord], str | None]:
        """One page of a conversation's messages, oldest first, and the next cursor."""
        query: Document = {"conversation_id": conversation_id}
        if cursor is not None:
            at, last_id = decode_cursor("messages", cursor, datetime, str)
            query["$or"] = [{"at": {"$gt": at}}, {"at": at, "_id": {"$gt": last_id}}]
        documents = await self._page(self._messages, query, _OLDEST_FIRST, limit)
        items = [from_document(MessageRecord, document) for document in documents[:limit]]
        next_cursor = (
            encode_cursor("messages", items[-1].at, items[-1].id)
            if len(documents) > limit
            else None
        )
        return items, next_cursor

    async def latest_messages(self, conversation_id: str, limit: int) -> list[MessageRecord]:
        """A conversation's latest ``limit`` messages, oldest first."""
        newest_first = [(key, DESCENDING) for key, _ in _OLDEST_FIRST]
        documents = await self._page(
            self._messages, {"conversation_id": conversation_id}, newest_first, limit
        )
        items = [from_document(MessageRecord, document) for document in documents[:limit]]
        return items[::-1]

    # --- reports -------------------------------------------------------------------

    async def add_report(self, report: Report) -> bool:
        """Record ``report``; False when its id (or, for a transaction, its
        tenant and transaction id) is already recorded."""
        with unavailable_as_transient("add report"):
            try:
                await self._reports.insert_one(to_document(stored_form(report)))
            except DuplicateKeyError:
                return False
        return True

    async def find_transaction_report(self, tenant_id: str, transaction_id: str) -> Report | None:
        with unavailable_as_transient("find transaction report"):
            document = await self._reports.find_one(
                {"tenant_id": tenant_id, "transaction_id": transaction_id, "kind": "transaction"}
            )
        return None if document is None else from_document(Report, document)

    # --- helpers -------------------------------------------------------------------

    @staticmethod
    async def _page(
        collection: AsyncCollection[Document],
        query: Document,
        sort: list[tuple[str, int]],
        limit: int,
    ) -> list[Document]:
        """Up to ``limit + 1`` documents: the extra one only says another page exists."""
        if limit < 1:
            raise ValueError("limit must be at least 1")
        with unavailable_as_transient(f"list {collection.name}"):
            return await collection.find(query).sort(sort).limit(limit + 1).to_list()
