"""Turn MongoDB outages into :class:`~cauce_runtime.TransientError`.

A consumer whose store call fails because MongoDB is unreachable or slow must nak the
message and retry later, not dead-letter it; the runtime does exactly that for a
``TransientError``. Other PyMongo errors (a bad query, a conflicting index) are bugs
and propagate unchanged.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from pymongo.errors import (
    AutoReconnect,
    ConnectionFailure,
    ExecutionTimeout,
    NetworkTimeout,
    ServerSelectionTimeoutError,
    WTimeoutError,
)

from cauce_runtime import TransientError

#: Failures that say "MongoDB is not there (or not answering) right now".
UNAVAILABLE_ERRORS = (
    ConnectionFailure,
    ServerSelectionTimeoutError,
    NetworkTimeout,
    AutoReconnect,
    ExecutionTimeout,
    WTimeoutError,
)

#: Seconds a consumer waits before retrying work that found MongoDB unavailable.
RETRY_AFTER_S = 2.0


class StoreUnavailable(TransientError):
    """MongoDB could not be reached or did not answer in time."""


@contextmanager
def unavailable_as_transient(operation: str) -> Iterator[None]:
    """Re-raise MongoDB connectivity errors inside the block as :class:`StoreUnavailable`."""
    try:
        yield
    except UNAVAILABLE_ERRORS as exc:
        # The message names the exception type only: PyMongo's text can carry the URL.
        raise StoreUnavailable(
            f"MongoDB unavailable during {operation}: {type(exc).__name__}",
            retry_after=RETRY_AFTER_S,
        ) from exc
