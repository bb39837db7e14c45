"""What agents' screens follow: a chat of the inbox changed (a message came or went, its
status, assignee, snooze, labels or pins changed). Pushed to agents live
(``GET /api/chats/stream``, SSE, resumable with ``Last-Event-ID``); the screen fetches
the chat again. No message text and no phone number travel here.

Subject: ``inbox.chat.changed.{tenant_id}.{chat_id}`` on the short-lived ``INBOX``
stream.
"""

from __future__ import annotations

from typing import Literal

from cauce_contracts import subjects
from cauce_contracts.envelope import Event
from cauce_contracts.fields import SubjectToken

#: ``handover``: the bot gave the chat to the humans (screens alert; the assigner
#: gives it to an agent within a second, or it waits in the team's queue).
ChatChange = Literal[
    "message", "handover", "status", "assignment", "snooze", "labels", "pin", "note"
]


class ChatChanged(Event):
    """A chat changed."""

    EVENT_TYPE = subjects.INBOX_CHAT_CHANGED

    chat_id: SubjectToken
    change: ChatChange
    #: The chat as it is now (open, pending, snoozed, closed), its agent, its version.
    status: str
    assignee: str | None = None
    #: The team whose queue the chat is in (None: the default team); with the
    #: assignee, what a stream needs to decide who may see the change.
    team: str | None = None
    version: int
