"""OpenTelemetry messaging attributes for NATS publish and process spans.

The semantic conventions want ``messaging.destination.name`` to name where a message
went. Our subjects end in identifying tokens: the contact key (an HMAC of the phone
number), ManyChat's subscriber id, SCI's transaction id. Those are pseudonymous but
linkable, and a tracing backend is read by more people than the bus is, so spans never
carry them:

- ``messaging.destination.name`` is the subject with every identifying token replaced
  by its name: ``inbound.message.received.acme.whatsapp.{contact_key}.7`` (tenant,
  channel, stream and durable names and the partition stay: they are what an SRE
  filters on, and they are few);
- ``messaging.destination.template`` is the contract's pattern,
  ``inbound.message.received.{tenant_id}.{channel}.{contact_key}``;
- to find the very message, spans carry ``messaging.nats.stream`` and
  ``messaging.nats.sequence`` (``nats stream get INBOUND <seq>``) and
  ``messaging.message.id`` (``Nats-Msg-Id``, derived from provider ids).

A subject no contract defines is reduced to its first token (``rttest.>``).
"""

from __future__ import annotations

from functools import lru_cache
from typing import Final

from cauce_contracts.subjects import SUBJECT_PATTERNS, pattern_params
from cauce_runtime.telemetry._logs import mask_phone

#: Subject tokens that identify a person or a payment: never in a span or a label.
IDENTIFYING_TOKENS: Final = frozenset({"contact_key", "manychat_id", "transaction_id"})
SYSTEM: Final = "nats"


def _split(pattern: str) -> list[str | None]:
    """Pattern tokens: a literal, or None for a variable token."""
    return [None if token.startswith("{") else token for token in pattern.split(".")]


_PATTERNS: Final = tuple(
    (pattern, _split(pattern), pattern_params(pattern)) for pattern in SUBJECT_PATTERNS.values()
)


def _literal_prefix(shape: list[str | None]) -> tuple[str, ...]:
    """A pattern's literal tokens before its first variable one."""
    prefix: list[str] = []
    for token in shape:
        if token is None:
            break
        prefix.append(token)
    return tuple(prefix)


def _index_by_prefix() -> dict[tuple[str, ...], list[int]]:
    index: dict[tuple[str, ...], list[int]] = {}
    for position, (_, shape, _) in enumerate(_PATTERNS):
        index.setdefault(_literal_prefix(shape), []).append(position)
    return index


#: The patterns (their positions in :data:`_PATTERNS`) by literal prefix: a subject is
#: matched against the few sharing its prefix, not all of them. Most subjects end in a
#: contact key, so each is new to the cache below and this lookup is on every publish
#: and every delivery.
_BY_PREFIX: Final = _index_by_prefix()
_PREFIX_LENGTHS: Final = sorted({len(prefix) for prefix in _BY_PREFIX})


def _candidates(tokens: list[str]) -> list[int]:
    """Positions of the patterns whose literal prefix ``tokens`` start with, in order."""
    found: list[int] = []
    for length in _PREFIX_LENGTHS:
        found.extend(_BY_PREFIX.get(tuple(tokens[:length]), ()))
    return sorted(found)


@lru_cache(maxsize=4096)
def describe_subject(subject: str) -> tuple[str, str]:
    """``(destination name, destination template)`` of a concrete subject.

    A stored subject may carry one token more than its pattern (the partition the
    ``INBOUND`` stream's subject transform appends); it is kept as ``{partition}`` in
    the template and as its value in the name.
    """
    tokens = subject.split(".")
    for position in _candidates(tokens):
        pattern, shape, params = _PATTERNS[position]
        if len(tokens) not in (len(shape), len(shape) + 1):
            continue
        if any(lit is not None and lit != tok for lit, tok in zip(shape, tokens, strict=False)):
            continue
        names = iter(params)
        shown: list[str] = []
        for literal, token in zip(shape, tokens, strict=False):
            if literal is not None:
                shown.append(token)
                continue
            name = next(names)
            shown.append(f"{{{name}}}" if name in IDENTIFYING_TOKENS else token)
        template = pattern
        if len(tokens) > len(shape):
            shown.append(tokens[-1])
            template += ".{partition}"
        return ".".join(shown), template
    root = f"{tokens[0]}.>"
    return root, root


def message_id(value: str) -> str:
    """``Nats-Msg-Id`` as a span attribute: provider ids, with any phone-like run of
    digits masked (a channel that put the number in its message id must not leak it)."""
    return mask_phone(value)


def _message_attributes(
    subject: str, operation_type: str, operation: str, body_size: int, msg_id: str | None
) -> dict[str, str | int]:
    """What a publish and a process span both say about the message and its subject."""
    name, template = describe_subject(subject)
    attributes: dict[str, str | int] = {
        "messaging.system": SYSTEM,
        "messaging.operation.type": operation_type,
        "messaging.operation.name": operation,
        "messaging.destination.name": name,
        "messaging.destination.template": template,
        "messaging.message.body.size": body_size,
    }
    if msg_id:
        attributes["messaging.message.id"] = message_id(msg_id)
    return attributes


def publish_attributes(subject: str, body_size: int, msg_id: str | None) -> dict[str, str | int]:
    return _message_attributes(subject, "send", "publish", body_size, msg_id)


def batch_publish_attributes(described: list[tuple[str, str]]) -> dict[str, str | int]:
    """A batch publish's span, given each message's ``describe_subject``: how many
    messages, and their destination when they share one. As the conventions say for a
    batch, no message id or sequence: each message's are on its consumer's span."""
    attributes: dict[str, str | int] = {
        "messaging.system": SYSTEM,
        "messaging.operation.type": "send",
        "messaging.operation.name": "publish",
        "messaging.batch.message_count": len(described),
    }
    names = {name for name, _ in described}
    templates = {template for _, template in described}
    if len(names) == 1:
        attributes["messaging.destination.name"] = next(iter(names))
    if len(templates) == 1:
        attributes["messaging.destination.template"] = next(iter(templates))
    return attributes


def process_attributes(
    subject: str,
    *,
    stream: str,
    durable: str,
    delivery_count: int,
    sequence: int,
    msg_id: str | None,
    body_size: int,
) -> dict[str, str | int]:
    attributes = _message_attributes(subject, "process", "process", body_size, msg_id)
    attributes["messaging.consumer.group.name"] = durable
    attributes["messaging.nats.stream"] = stream
    attributes["messaging.nats.delivery_count"] = delivery_count
    attributes["messaging.nats.sequence"] = sequence
    return attributes
