"""What can go wrong talking to SCI TOTAL: the runtime's outside-call branches
(:mod:`cauce_runtime._errors`) with SCI's names::

    SciError(OutsideCallError)
    ├── SciUnavailable(RetryableCallError)     SCI did not do it (unreachable, 5xx, 429)
    │   └── SciOutcomeUnknown(OutcomeUnknown)  a lookup may be repeated; for
    │                                          CrearTransaccion SCI may have created the
    │                                          transaction (read timeout, 504, garbled 200)
    ├── SciAuthFailed(CredentialsRejected)     SCI refused our credentials (after one
    │                                          fresh login); an operator may fix them
    └── SciRejected(PermanentCallError)        4xx or a business error in ``response``

``code`` is a short code for events and metrics (``http_503``, ``timeout``,
``connection``, ``sci_business``...); ``detail`` holds SCI's own texts, if any.
"""

from __future__ import annotations

import cauce_runtime as runtime
from cauce_runtime import OutcomeUnknown, OutsideCallError, PermanentCallError, RetryableCallError


class SciError(OutsideCallError):
    """Base of every SCI TOTAL failure; ``messages`` are SCI's own texts, in order
    (``detail`` is them joined). ``code`` is always set for SCI's failures."""

    code: str

    def __init__(
        self,
        message: str,
        *,
        code: str,
        http_status: int | None = None,
        retry_after: float | None = None,
        messages: tuple[str, ...] = (),
    ) -> None:
        super().__init__(
            message,
            code=code,
            http_status=http_status,
            retry_after=retry_after,
            detail="; ".join(messages) or None,
        )
        self.messages = messages


class SciUnavailable(SciError, RetryableCallError):
    """SCI could not be reached or answered a transient error; asking later may work."""


class SciOutcomeUnknown(SciUnavailable, OutcomeUnknown):
    """The request may have reached SCI and been carried out, but we never got the
    answer (read timeout, 504, a 200 we cannot read). Safe to repeat for a lookup; for
    a transaction, repeating may create a second one."""


class SciAuthFailed(SciError, runtime.CredentialsRejected):
    """SCI refused the login, or a fresh token, so the credentials (or SCI's auth
    service) are wrong. Retryable: an operator may fix the credentials meanwhile."""


class SciRejected(SciError, PermanentCallError):
    """SCI refused the request itself (4xx, or ``response.errors`` on a 200): asking
    again with the same data fails the same way."""
