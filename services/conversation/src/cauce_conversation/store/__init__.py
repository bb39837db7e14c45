"""The conversation service's MongoDB store: conversations, messages and reports.

See :class:`ConversationStore` for the collections, indexes and the compare-and-set
rule every conversation write follows.
"""

from cauce_conversation.store.conversation_store import ConversationStore

__all__ = ["ConversationStore"]
