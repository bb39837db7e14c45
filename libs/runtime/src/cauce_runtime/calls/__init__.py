"""Calls to someone else over HTTP: a traced client, and how a failed call is read."""

from cauce_runtime.calls._client import (
    AiohttpTransport,
    TracedHttpClient,
    TracingTransport,
    post_json,
    safe_url,
    traced_http_client,
)
from cauce_runtime.calls._failures import (
    NOT_SENT,
    parse_retry_after,
    retry_after_of,
    transport_failure,
    was_sent,
)

__all__ = [
    "NOT_SENT",
    "AiohttpTransport",
    "TracedHttpClient",
    "TracingTransport",
    "parse_retry_after",
    "post_json",
    "retry_after_of",
    "safe_url",
    "traced_http_client",
    "transport_failure",
    "was_sent",
]
