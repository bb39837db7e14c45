"""How a failed SCI call turns into events and redeliveries.

A retryable failure (:class:`~cauce_payments.sci_total.SciError` with ``retryable``) is
retried by the runtime: the handler raises :class:`TransientError` and the message
comes back after the consumer's backoff. On the first delivery the requester is told
once (a ``*Failed`` event with ``will_retry=True``) so the customer hears why they
wait; on the last allowed delivery the failure is final (``will_retry=False``) and the
message is acked, so the conversation always gets an answer and nothing is
dead-lettered for a provider outage.
"""

from __future__ import annotations

from cauce_payments.sci_total import SciAuthFailed, SciError, SciRejected
from cauce_runtime import Delivery, TransientError


def will_retry(error: SciError, delivery: Delivery) -> bool:
    """True when this failure is retried by redelivery (not the last attempt)."""
    return error.retryable and not delivery.last_attempt


def announce_retry(delivery: Delivery) -> bool:
    """True on the delivery that should tell the requester we keep trying (the first)."""
    return delivery.num_delivered == 1


def retry_later(error: SciError, retry_delay_s: float | None) -> TransientError:
    """The exception that naks the message for a later retry (``retry_delay_s``, a
    setting, else what SCI asked for, else the consumer's backoff)."""
    retried = error.as_consumer_error(retry_delay_s)
    assert isinstance(retried, TransientError), "only retryable failures are retried"
    return retried


def reason_for(error: SciError) -> str:
    """A reason in Spanish that the bot (or an agent) can pass on."""
    if isinstance(error, SciRejected):
        detail = "; ".join(error.messages) if error.messages else error.message
        return f"SCI TOTAL rechazó la solicitud: {detail}"[:4000]
    if isinstance(error, SciAuthFailed):
        return "No fue posible autenticarse con SCI TOTAL; el equipo técnico debe revisarlo."
    return "SCI TOTAL no está disponible en este momento."
