"""What can go wrong talking to SCI TOTAL, classified by what the caller should do.

::

    SciError
    ├── SciUnavailable      retryable: SCI did not do it (connect error, 5xx, 429)
    │   └── SciOutcomeUnknown  retryable *reads*; for CrearTransaccion SCI may have
    │                          created the transaction (read timeout, 504, garbled 200)
    ├── SciAuthFailed       SCI refused our credentials (after one fresh login)
    └── SciRejected         not retryable: 4xx or a business error in ``response``
"""

from __future__ import annotations


class SciError(Exception):
    """Base of every SCI TOTAL failure.

    ``code`` is a short provider code for events and metrics (``http_503``,
    ``timeout``, ``sci_business``...); ``messages`` are SCI's own texts, if any.
    """

    retryable: bool = False

    def __init__(self, message: str, *, code: str, messages: tuple[str, ...] = ()) -> None:
        super().__init__(message)
        self.message = message
        self.code = code
        self.messages = messages


class SciUnavailable(SciError):
    """SCI could not be reached or answered a transient error; asking later may work."""

    retryable = True

    def __init__(
        self,
        message: str,
        *,
        code: str,
        messages: tuple[str, ...] = (),
        retry_after: float | None = None,
    ) -> None:
        super().__init__(message, code=code, messages=messages)
        self.retry_after = retry_after


class SciOutcomeUnknown(SciUnavailable):
    """The request may have reached SCI and been carried out, but we never got the
    answer (read timeout, 504, a 200 we cannot read). Safe to repeat for a lookup; for
    a transaction, repeating may create a second one."""


class SciAuthFailed(SciError):
    """SCI refused the login, or a fresh token, so the credentials (or SCI's auth
    service) are wrong. Retryable: an operator may fix the credentials meanwhile."""

    retryable = True


class SciRejected(SciError):
    """SCI refused the request itself (4xx, or ``response.errors`` on a 200): asking
    again with the same data fails the same way."""
