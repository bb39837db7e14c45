"""Every error cauce raises on purpose, drawn once::

    CauceError
    ├── TransientError                 retry later (``retry_after``: the least wait)
    │   └── BusUnavailable             JetStream did not take a publish in time
    ├── PermanentError                 this message can never succeed: dead-letter it
    ├── ProvisioningError              a stream or consumer could not be brought to spec
    └── OutsideCallError               a call to someone else failed
        ├── RetryableCallError         may succeed later (5xx, 429, not reachable)
        │   ├── CredentialsRejected    our token, login or key was refused
        │   └── OutcomeUnknown         sent, no answer: it may have been carried out
        └── PermanentCallError         refused for good: the same call fails the same way

A consumer handler tells the runtime what to do with a message by what it raises:
:class:`TransientError` (or anything unexpected) naks it for a redelivery, at the
earliest ``retry_after`` seconds later; :class:`PermanentError` terminates it and copies it
to the dead letters with the reason. An outside call's failure says which of the two
it is through :meth:`OutsideCallError.as_consumer_error`.

The providers' own trees (the notifier's ``ProviderError`` family, crm-sync's Odoo
errors, payments' SCI errors) subclass the :class:`OutsideCallError` branches, so every
failed call carries the same fields: ``code`` (the remote's own code: Meta's
``"131047"``, Odoo's exception name, ``"http_503"``), ``http_status``, ``retry_after``
(seconds the remote asked us to wait), ``outcome_unknown`` and ``retryable``.
How a failed call is classified (``Retry-After``, transport failures) is in
:mod:`cauce_runtime.calls`.
"""

from __future__ import annotations

from typing import ClassVar


class CauceError(Exception):
    """Base of every error cauce raises on purpose."""


class TransientError(CauceError):
    """Retry later. ``retry_after`` (seconds) is the least wait before the retry: the
    runtime waits that long plus jitter, never less, instead of the consumer's backoff.

    ``exact``: ``retry_after`` is a time the caller scheduled itself (a send slot it
    knows is free then), so the retry comes at exactly that time: jitter spreads
    retries that would otherwise come together, and these are already spread.
    """

    def __init__(
        self, message: str, retry_after: float | None = None, *, exact: bool = False
    ) -> None:
        super().__init__(message)
        self.message = message
        self.retry_after = retry_after
        self.exact = exact and retry_after is not None


class PermanentError(CauceError):
    """The message can never be processed: terminate it and dead-letter a copy."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class BusUnavailable(TransientError):
    """JetStream did not acknowledge a publish in time, or the bus is not connected."""


class ProvisioningError(CauceError):
    """A stream or consumer could not be created or brought to its declared spec."""


class OutsideCallError(CauceError):
    """A call to someone else (a provider, Odoo, SCI TOTAL) failed.

    ``message`` says what happened in our words (a provider's own title when it gave
    one); ``detail`` is the remote's longer explanation, when there is one.
    """

    #: True when the same call may succeed later.
    retryable: ClassVar[bool] = False
    #: True when the call may have been carried out although it failed for us.
    outcome_unknown: ClassVar[bool] = False

    def __init__(
        self,
        message: str,
        *,
        code: str | None = None,
        http_status: int | None = None,
        retry_after: float | None = None,
        detail: str | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        #: The remote's own code for the failure, when it gave one.
        self.code = code
        #: The HTTP status of the answer, when there was one.
        self.http_status = http_status
        #: Seconds the remote asked us to wait (``Retry-After``), when it said.
        self.retry_after = retry_after
        self.detail = detail

    def __str__(self) -> str:
        return f"{self.code}: {self.message}" if self.code else self.message

    def __repr__(self) -> str:
        return (
            f"{type(self).__name__}(code={self.code!r}, message={self.message!r}, "
            f"http_status={self.http_status!r})"
        )

    def as_consumer_error(
        self, retry_after: float | None = None
    ) -> TransientError | PermanentError:
        """What a consumer raises for this failure: :class:`TransientError` when it is
        retryable (waiting ``retry_after``, else what the remote asked for), else
        :class:`PermanentError`. Raise it ``from`` this error."""
        if self.retryable:
            wait = retry_after if retry_after is not None else self.retry_after
            return TransientError(str(self), retry_after=wait)
        return PermanentError(str(self))


class RetryableCallError(OutsideCallError):
    """The remote could not take the call now (5xx, 429, unreachable); asking again
    later may work."""

    retryable: ClassVar[bool] = True


class CredentialsRejected(RetryableCallError):
    """The remote refused our credentials. Retryable on purpose: the message is fine,
    the credentials are not, and someone may rotate them meanwhile."""


class OutcomeUnknown(RetryableCallError):
    """The request may have reached the remote and been carried out, but no answer came
    (a read timeout, a proxy's 504, a reply we cannot read). Repeating a read is safe;
    repeating a create may create a second one, so look it up first where you can."""

    outcome_unknown: ClassVar[bool] = True


class PermanentCallError(OutsideCallError):
    """The remote refused the call itself (bad data, not allowed): asking again with
    the same data fails the same way."""
