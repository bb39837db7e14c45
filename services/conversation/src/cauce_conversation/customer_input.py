"""What the bot hears from a customer message: an inbound event as a flow input.

Reactions and system notices (number changed...) are not turns: the bot has nothing
to say to them, so they return ``None`` and are only recorded.
"""

from __future__ import annotations

from cauce_contracts.inbound import (
    ButtonMessage,
    InboundMessage,
    InteractiveMessage,
    ReactionMessage,
    SystemMessage,
    TextMessage,
)
from cauce_conversation.flows.vocabulary import (
    ChoiceReceived,
    FlowInput,
    MediaKind,
    MediaReceived,
    TextReceived,
)

_MEDIA_KINDS: frozenset[str] = frozenset(
    ("image", "audio", "video", "document", "sticker", "location", "contacts", "order")
)


def flow_input_of(message: InboundMessage) -> FlowInput | None:
    """The flow input a customer message means, or ``None`` when it is not a turn."""
    if isinstance(message, TextMessage):
        return TextReceived(message.body)
    if isinstance(message, InteractiveMessage):
        reply = message.reply
        if reply.type in ("button_reply", "list_reply"):
            return ChoiceReceived(id=reply.id, title=reply.title)
        return MediaReceived("other")  # a WhatsApp Flow's answer: not ours
    if isinstance(message, ButtonMessage):
        # A template's quick-reply button: its payload is the id we gave it.
        return ChoiceReceived(id=message.payload or message.text, title=message.text)
    if isinstance(message, ReactionMessage | SystemMessage):
        return None
    kind: MediaKind = message.type if message.type in _MEDIA_KINDS else "other"  # type: ignore[assignment]
    return MediaReceived(kind)


def inbox_text(message: InboundMessage) -> str:
    """How an inbox shows the message in one line."""
    if isinstance(message, TextMessage):
        return message.body
    if isinstance(message, InteractiveMessage):
        return getattr(message.reply, "title", None) or "[respuesta]"
    if isinstance(message, ButtonMessage):
        return message.text
    if isinstance(message, ReactionMessage):
        return f"[reacción {message.emoji or ''}]".replace(" ]", "]")
    media = getattr(message, "media", None)
    caption = getattr(media, "caption", None)
    return f"[{message.type}] {caption}" if caption else f"[{message.type}]"
