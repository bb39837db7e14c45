"""The exception tree every service raises and the runtime interprets.

A consumer handler signals what should happen to a message by the exception it raises:

- :class:`TransientError`: the work may succeed later (provider down, lock held):
  the message is nak'ed with a delay and redelivered.
- :class:`PermanentError`: the message itself is bad and will never succeed: it is
  terminated and copied to the dead-letter stream with the reason.

Any other exception is treated as transient (a bug fixed by a deploy should not lose
messages); after ``max_deliver`` attempts the message is dead-lettered anyway.
"""

from __future__ import annotations


class CauceError(Exception):
    """Base of every error cauce raises on purpose."""


class TransientError(CauceError):
    """Retry later; ``retry_after`` (seconds) overrides the consumer's backoff."""

    def __init__(self, message: str, retry_after: float | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.retry_after = retry_after


class PermanentError(CauceError):
    """The message can never be processed: terminate it and dead-letter a copy."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class BusUnavailable(TransientError):
    """JetStream did not acknowledge a publish in time, or the bus is not connected."""


class ProvisioningError(CauceError):
    """A stream or consumer could not be created or brought to its declared spec."""
