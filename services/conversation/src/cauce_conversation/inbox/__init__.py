"""The inbox API: what agents use to see conversations, take them over and reply.

Mount :data:`router` on the service app; its routes reach the store, bus and flow
through the wired :class:`~cauce_conversation.bootstrap.ConversationService`.
"""

from cauce_conversation.inbox.routes import router

__all__ = ["router"]
