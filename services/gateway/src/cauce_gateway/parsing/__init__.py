"""Channel webhook payloads -> typed items -> inbound events (pure, no I/O).

Parsers (``parse_meta_webhook``, ``parse_chattigo_webhook``, ``parse_ycloud_webhook``)
turn one authentic delivery into a :class:`ParseResult`; :func:`build_inbound_events`
turns its items into :class:`Publication` s ready for the bus. Meta's business-account
changes (templates, messaging limits, marketing preferences) are read by
``business_account``.
"""

from cauce_gateway.parsing.chattigo import parse_chattigo_webhook
from cauce_gateway.parsing.events import UNASSIGNED_TENANT, build_inbound_events
from cauce_gateway.parsing.items import (
    MetaParseResult,
    ParsedAccountChange,
    ParsedItem,
    ParsedMessage,
    ParsedStatus,
    ParseResult,
    UnrecognizedPart,
)
from cauce_gateway.parsing.meta import parse_meta_webhook
from cauce_gateway.parsing.publication import Publication
from cauce_gateway.parsing.ycloud import parse_ycloud_webhook

__all__ = [
    "UNASSIGNED_TENANT",
    "MetaParseResult",
    "ParseResult",
    "ParsedAccountChange",
    "ParsedItem",
    "ParsedMessage",
    "ParsedStatus",
    "Publication",
    "UnrecognizedPart",
    "build_inbound_events",
    "parse_chattigo_webhook",
    "parse_meta_webhook",
    "parse_ycloud_webhook",
]
