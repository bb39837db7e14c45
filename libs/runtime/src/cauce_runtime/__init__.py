"""What every cauce service shares, in one place: ``from cauce_runtime import ...``.

- errors: the exception tree, drawn in :mod:`cauce_runtime._errors`;
- :class:`Backoff`: the one retry-timing policy; keyset cursors for paged lists;
- :class:`Coalescer`: calls made while a round trip is in flight go in the next one;
- settings (:class:`ServiceSettings`), background tasks, the start-up heap freeze;
- :mod:`~cauce_runtime.bus`: the JetStream bus, durable pull consumers and
  :class:`Publisher`, the protocol of code that only publishes;
- :mod:`~cauce_runtime.telemetry`: traces, metrics (``metrics``), JSON logs, masking;
- :mod:`~cauce_runtime.calls`: the traced HTTP client and how failed calls are read;
- :mod:`~cauce_runtime.web`: the service app, its runner, problem+json, bearer
  tokens (``require_bearer``) and the wiring of route handlers: a service passes its
  bootstrap object as ``create_service_app(wiring=...)`` and its handlers ask for it
  with ``Annotated[Kind, Depends(wired(Kind))]`` (``wiring_of`` outside a request);
- :mod:`cauce_runtime.postgres` (the ``postgres`` extra) is imported on its own.
"""

from cauce_runtime._background import BackgroundTask, every
from cauce_runtime._backoff import Backoff
from cauce_runtime._coalescing import Coalescer
from cauce_runtime._cursors import InvalidCursor, decode_cursor, encode_cursor
from cauce_runtime._errors import (
    BusUnavailable,
    CauceError,
    CredentialsRejected,
    OutcomeUnknown,
    OutsideCallError,
    PermanentCallError,
    PermanentError,
    ProvisioningError,
    RetryableCallError,
    TransientError,
)
from cauce_runtime._settings import (
    ServiceSettings,
    holds_placeholder_secret,
    is_placeholder_secret,
)
from cauce_runtime._startup_heap import freeze_startup_heap
from cauce_runtime.bus import (
    DEFAULT_BACKOFF,
    HEADER_MSG_ID,
    Bus,
    ConsumerSpec,
    Delivery,
    NewTrace,
    Publication,
    Publisher,
    SubjectTurns,
    consumer,
)
from cauce_runtime.calls import (
    AiohttpTransport,
    parse_retry_after,
    retry_after_of,
    traced_http_client,
    transport_failure,
)
from cauce_runtime.telemetry import (
    Telemetry,
    configure_logging,
    extract_context,
    get_tracer,
    inject_headers,
    mask_phone,
    mask_sensitive,
    metrics,
    record_exception,
    setup_telemetry,
)
from cauce_runtime.web import (
    PROBLEM_TYPE_BASE,
    create_service_app,
    install_problem_handlers,
    problem_response,
    require_bearer,
    run,
    serve,
    wire,
    wired,
    wiring_of,
)

__all__ = [
    "DEFAULT_BACKOFF",
    "HEADER_MSG_ID",
    "PROBLEM_TYPE_BASE",
    "AiohttpTransport",
    "BackgroundTask",
    "Backoff",
    "Bus",
    "BusUnavailable",
    "CauceError",
    "Coalescer",
    "ConsumerSpec",
    "CredentialsRejected",
    "Delivery",
    "InvalidCursor",
    "NewTrace",
    "OutcomeUnknown",
    "OutsideCallError",
    "PermanentCallError",
    "PermanentError",
    "ProvisioningError",
    "Publication",
    "Publisher",
    "RetryableCallError",
    "ServiceSettings",
    "SubjectTurns",
    "Telemetry",
    "TransientError",
    "configure_logging",
    "consumer",
    "create_service_app",
    "decode_cursor",
    "encode_cursor",
    "every",
    "extract_context",
    "freeze_startup_heap",
    "get_tracer",
    "holds_placeholder_secret",
    "inject_headers",
    "install_problem_handlers",
    "is_placeholder_secret",
    "mask_phone",
    "mask_sensitive",
    "metrics",
    "parse_retry_after",
    "problem_response",
    "record_exception",
    "require_bearer",
    "retry_after_of",
    "run",
    "serve",
    "setup_telemetry",
    "traced_http_client",
    "transport_failure",
    "wire",
    "wired",
    "wiring_of",
]
