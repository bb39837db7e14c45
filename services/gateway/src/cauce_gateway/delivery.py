"""A webhook delivery as every handler sees it, however it came in.

The webhook lane (plain ASGI) and the FastAPI routes both hand a handler a
:class:`Delivery`: the exact bytes (signatures are over these), the headers (lower-case
names), the query and the path parameters. Handlers answer with an
:class:`~cauce_gateway.webhooks.responses.Answer`, so one handler serves both ways in.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field

from opentelemetry import trace


@dataclass(frozen=True, slots=True)
class Delivery:
    body: bytes
    #: Header names in lower case (ASGI's rule; Starlette's ``Headers`` also matches so).
    headers: Mapping[str, str]
    query: Mapping[str, str] = field(default_factory=dict)
    path_params: Mapping[str, str] = field(default_factory=dict)


def correlation_id(headers: Mapping[str, str]) -> str:
    """The caller's ``X-Request-Id`` when given, else the trace id of this request, so an
    SRE can go from any event straight to its trace."""
    given = headers.get("x-request-id")
    if given and len(given) <= 128:
        return given
    span_context = trace.get_current_span().get_span_context()
    if span_context.is_valid:
        return format(span_context.trace_id, "032x")
    return uuid.uuid4().hex
