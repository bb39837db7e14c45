"""The inbox API: what agents use to see conversations, take them over and reply.

Mount :func:`inbox_router` on the service app; it reads its collaborators from
``app.state`` (``conversations``, ``bus``, ``flow``, ``settings``).
"""

from cauce_conversation.inbox.routes import inbox_router

__all__ = ["inbox_router"]
