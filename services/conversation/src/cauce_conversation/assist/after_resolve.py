"""A chat's summary and insights made when it resolves, for the companies that ask for
it (``after_resolve`` in their assist settings): a durable consumer of the inbox's
``status`` changes to closed (:data:`cauce_contracts.streams.CONVERSATION_RESOLVED_CHATS`).

Each generation is named by the event (``call_id``), so a redelivered event neither
asks the model again for a kind already made nor records its usage twice. A model that
is busy or down is retried with the consumer's backoff; one that refuses dead-letters
the event with the reason.
"""

from __future__ import annotations

from cauce_contracts.inbox import ChatChanged
from cauce_conversation.assist.generation import Generator
from cauce_conversation.assist.models import OutsideCallError
from cauce_conversation.assist.prompts import Kind
from cauce_conversation.model import ConversationStatus

#: What a resolved chat gets.
KINDS: tuple[Kind, ...] = ("summary", "insights")


class ResolvedChats:
    def __init__(self, generator: Generator) -> None:
        self.generator = generator

    async def chat_changed(self, event: ChatChanged) -> None:
        if event.change != "status" or event.status != ConversationStatus.CLOSED:
            return
        settings, _ = await self.generator.assistants.store.read(event.tenant_id)
        if not settings.after_resolve:
            return
        conversation = await self.generator.store.get(event.chat_id)
        if conversation is None or conversation.tenant_id != event.tenant_id:
            return
        if conversation.status != ConversationStatus.CLOSED:
            return  # reopened meanwhile: it is not over
        call_id = f"resolved:{event.event_id}"
        for kind in KINDS:
            if await self.generator.results.made_by(conversation, kind, call_id):
                continue
            try:
                await self.generator.generate(
                    conversation, kind, trigger="resolved", call_id=call_id
                )
            except OutsideCallError as error:
                raise error.as_consumer_error() from error
