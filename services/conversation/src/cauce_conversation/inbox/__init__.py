"""The inbox API: what agents use to see conversations, take them over and reply.

Mount :data:`router` (``/conversations``) and :data:`chats_router` (the seed's
``/api/chats``) on the service app; its routes reach the store, bus and flow
through the wired :class:`~cauce_conversation.bootstrap.ConversationService`.
"""

from cauce_conversation.inbox.appointments_api import router as appointments_router
from cauce_conversation.inbox.chats import router as chats_router
from cauce_conversation.inbox.media_files import router as media_router
from cauce_conversation.inbox.quick_replies import router as quick_replies_router
from cauce_conversation.inbox.routes import router
from cauce_conversation.inbox.uploads import router as uploads_router

__all__ = [
    "appointments_router",
    "chats_router",
    "media_router",
    "quick_replies_router",
    "router",
    "uploads_router",
]
