"""Durable pull consumers with explicit ack, retries with backoff, and dead letters.

Declare a handler for a :class:`~cauce_runtime.ConsumerSpec` and an event
model; the runtime does the rest::

    @consumer(bus, specs.NOTIFIER_WINDOWS, InboundMessageReceived)
    async def on_message(event: InboundMessageReceived, delivery: Delivery) -> None: ...

What happens to a message (DESIGN "Events"):

- the handler returns: ack;
- it raises :class:`TransientError` (or any unexpected exception): nak with a delay,
  the spec's :class:`~cauce_runtime.Backoff` for this delivery, or the error's
  ``retry_after`` (a minimum: jitter only adds to it; ``exact``: as given);
- it raises :class:`PermanentError`, or the payload is not valid JSON / not a valid
  event: a :class:`~cauce_contracts.dlq.DeadLettered` copy (reason, error type,
  original subject, headers and bytes) is published on ``dlq.{stream}.{durable}``,
  then the message is terminated;
- a transient failure on the last allowed delivery is dead-lettered the same way
  ("max deliveries exhausted: ...").

If the DLQ copy cannot be published the message is nak'ed instead of terminated, so
nothing is dropped silently. Messages come from a :class:`PullLoop` bound to the durable
that :meth:`Bus.provision` created from the same spec, and every ack is explicit.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from nats.aio.msg import Msg
from opentelemetry.trace import SpanKind, Status, StatusCode
from pydantic import ValidationError

from cauce_contracts.dlq import DeadLettered
from cauce_contracts.envelope import SYSTEM_TENANT_ID, Event
from cauce_contracts.registry import UnknownEventType, parse_event
from cauce_runtime._errors import BusUnavailable, PermanentError, TransientError
from cauce_runtime.bus._bus import HEADER_MSG_ID, Bus
from cauce_runtime.bus._pull_loop import PullLoop
from cauce_runtime.bus._spec import ConsumerSpec
from cauce_runtime.telemetry import metrics
from cauce_runtime.telemetry._logs import mask_sensitive
from cauce_runtime.telemetry._messaging_spans import process_attributes
from cauce_runtime.telemetry._tracing import extract_context, get_tracer, record_exception

logger = logging.getLogger(__name__)

E = TypeVar("E", bound=Event)

#: Headers replaced on the DLQ copy (the record carries the originals in its body).
_REPLACED_ON_COPY = frozenset(
    {"nats-msg-id", "traceparent", "tracestate", "cauce-event-type", "content-type"}
)


@dataclass(frozen=True)
class Delivery:
    """One delivery of a message to a handler: where it came from and how many tries."""

    subject: str
    headers: Mapping[str, str]
    num_delivered: int
    stream_sequence: int
    spec: ConsumerSpec
    raw: Msg

    @property
    def msg_id(self) -> str | None:
        return self.header(HEADER_MSG_ID)

    @property
    def last_attempt(self) -> bool:
        return self.num_delivered >= self.spec.max_deliver

    def header(self, name: str) -> str | None:
        """A header value, matching ``name`` case-insensitively."""
        wanted = name.lower()
        return next((v for k, v in self.headers.items() if k.lower() == wanted), None)

    async def in_progress(self) -> None:
        """Tell JetStream the handler is still working (resets the ack timer)."""
        await self.raw.in_progress()


Handler = Callable[[E, Delivery], Awaitable[None]]
#: One event model, or several (a consumer of several event types, told apart by
#: ``event_type``; the handler gets the matching model's instance).
EventModels = type[E] | tuple[type[Event], ...]


class _InvalidPayload(PermanentError):
    """The bytes are not valid JSON or not a valid event of the expected model."""

    def __init__(self, reason: str, cause: Exception) -> None:
        super().__init__(reason)
        self.cause_type = type(cause).__name__


def _heartbeat_interval(spec: ConsumerSpec) -> float:
    return max(0.05, spec.ack_wait.total_seconds() / 2)


@contextlib.contextmanager
def _still_working(delivery: Delivery) -> Iterator[None]:
    """Tell JetStream every half ack-wait that this delivery is being worked on (also
    while it waits for its subject's turn), so it is not redelivered to another replica.

    A timer on the loop, not a task per delivery: most deliveries end long before their
    first beat, and a task made and cancelled for each cost more than the rest of this.
    """
    heartbeat = _Heartbeat(delivery, _heartbeat_interval(delivery.spec))
    try:
        yield
    finally:
        heartbeat.stop()


class _Heartbeat:
    def __init__(self, delivery: Delivery, interval: float) -> None:
        self.delivery, self.interval = delivery, interval
        self.loop = asyncio.get_running_loop()
        self.sending: set[asyncio.Task[None]] = set()
        self.timer = self.loop.call_later(interval, self._beat)

    def _beat(self) -> None:
        task = self.loop.create_task(self._in_progress())
        self.sending.add(task)
        task.add_done_callback(self.sending.discard)
        self.timer = self.loop.call_later(self.interval, self._beat)

    async def _in_progress(self) -> None:
        with contextlib.suppress(Exception):
            await self.delivery.raw.in_progress()

    def stop(self) -> None:
        self.timer.cancel()
        for task in self.sending:
            task.cancel()


class SubjectTurns:
    """Runs the deliveries of one subject one after another, in the order they arrived.

    A fetched batch is handled concurrently, but subjects end in the contact key, so
    this keeps one contact's messages in stream order within a replica while different
    contacts proceed in parallel. (Across replicas, a contact's messages may still be
    fetched by two replicas at once: see the consumer spec's ``max_ack_pending``.)
    """

    def __init__(self) -> None:
        self._locks: dict[str, asyncio.Lock] = {}
        self._waiting: dict[str, int] = {}

    @contextlib.asynccontextmanager
    async def turn(self, subject: str) -> AsyncIterator[None]:
        lock = self._locks.setdefault(subject, asyncio.Lock())
        self._waiting[subject] = self._waiting.get(subject, 0) + 1
        try:
            async with lock:  # asyncio.Lock wakes waiters first-come, first-served
                yield
        finally:
            self._waiting[subject] -= 1
            if not self._waiting[subject]:
                del self._waiting[subject], self._locks[subject]

    def __len__(self) -> int:
        return len(self._locks)


class _Runner(Generic[E]):
    """Runs one message through the handler and settles it (ack / nak / DLQ + term)."""

    def __init__(
        self, bus: Bus, spec: ConsumerSpec, model: EventModels[E], handler: Handler[E]
    ) -> None:
        self.bus, self.spec, self.model, self.handler = bus, spec, model, handler
        self.labels = {"stream": spec.stream, "consumer": spec.durable_name}
        self.tracer = get_tracer()
        self.ordering = SubjectTurns()

    async def __call__(self, raw: Msg) -> None:
        headers = dict(raw.headers or {})
        meta = raw.metadata
        delivery = Delivery(
            subject=raw.subject,
            headers=headers,
            num_delivered=meta.num_delivered,
            stream_sequence=meta.sequence.stream,
            spec=self.spec,
            raw=raw,
        )
        if delivery.num_delivered > 1:
            metrics.CONSUMER_REDELIVERIES.add(1, self.labels)
        attributes = process_attributes(
            raw.subject,
            stream=self.spec.stream,
            durable=self.spec.durable_name,
            delivery_count=delivery.num_delivered,
            sequence=delivery.stream_sequence,
            msg_id=delivery.msg_id,
            body_size=len(raw.data),
        )
        with _still_working(delivery):
            async with self.ordering.turn(raw.subject):
                started = time.perf_counter()
                with self.tracer.start_as_current_span(
                    f"process {self.spec.durable_name}",
                    context=extract_context(headers),
                    kind=SpanKind.CONSUMER,
                    attributes=attributes,
                ) as span:
                    try:
                        await self._handle(delivery, span)
                    finally:
                        metrics.CONSUMER_HANDLING_SECONDS.record(
                            time.perf_counter() - started, self.labels
                        )

    async def _handle(self, delivery: Delivery, span: Any) -> None:
        try:
            event = self._validate(delivery.raw.data)
            span.set_attribute("cauce.event_type", event.event_type)
            span.set_attribute("cauce.event_id", str(event.event_id))
            span.set_attribute("cauce.tenant_id", event.tenant_id)
            await self.handler(event, delivery)
        except PermanentError as exc:
            kind = "invalid" if isinstance(exc, _InvalidPayload) else "permanent"
            metrics.CONSUMER_FAILED.add(1, {**self.labels, "kind": kind})
            record_exception(span, exc)
            span.set_attribute("error.type", type(exc).__name__)
            span.set_status(Status(StatusCode.ERROR, kind))
            error_type = exc.cause_type if isinstance(exc, _InvalidPayload) else type(exc).__name__
            await self._dead_letter(delivery, exc.reason, error_type)
        except asyncio.CancelledError:
            raise  # shutting down: unacked, JetStream redelivers after ack_wait
        except Exception as exc:
            transient = isinstance(exc, TransientError)
            kind = "transient" if transient else "unexpected"
            metrics.CONSUMER_FAILED.add(1, {**self.labels, "kind": kind})
            record_exception(span, exc)
            span.set_attribute("error.type", type(exc).__name__)
            span.set_status(Status(StatusCode.ERROR, type(exc).__name__))
            if not transient:
                logger.exception(
                    "unexpected error in consumer %s (treated as transient)", self.spec.durable_name
                )
            await self._retry_or_give_up(delivery, exc)
        else:
            await delivery.raw.ack()
            metrics.CONSUMER_PROCESSED.add(1, self.labels)

    def _validate(self, data: bytes) -> Any:
        models = self.model if isinstance(self.model, tuple) else (self.model,)
        try:
            if len(models) == 1:
                return models[0].model_validate_json(data)
            event = parse_event(data)
        except ValidationError as exc:
            names = "/".join(model.__name__ for model in models)
            reason = f"invalid {names} payload: {exc.error_count()} error(s): " + "; ".join(
                f"{'.'.join(str(p) for p in err['loc']) or '<root>'}: {err['msg']}"
                for err in exc.errors()[:5]
            )
            raise _InvalidPayload(reason, exc) from exc
        except UnknownEventType as exc:
            raise _InvalidPayload(str(exc), exc) from exc
        if not isinstance(event, models):
            unexpected = TypeError(f"{event.event_type} is not handled by {self.spec.durable_name}")
            raise _InvalidPayload(str(unexpected), unexpected)
        return event

    async def _retry_or_give_up(self, delivery: Delivery, exc: Exception) -> None:
        if delivery.last_attempt:
            reason = f"max deliveries exhausted: {type(exc).__name__}: {exc}"
            await self._dead_letter(delivery, reason, type(exc).__name__)
            return
        delay = _retry_delay(self.spec, delivery, exc)
        logger.warning(
            "consumer %s: delivery %d of seq %d failed (%s); retry in %.2fs",
            self.spec.durable_name,
            delivery.num_delivered,
            delivery.stream_sequence,
            type(exc).__name__,
            delay,
        )
        await delivery.raw.nak(delay=delay)

    async def _dead_letter(self, delivery: Delivery, reason: str, error_type: str) -> None:
        reason = mask_sensitive(reason)
        record = _dead_letter_record(delivery, reason, error_type)
        headers = {k: v for k, v in delivery.headers.items() if k.lower() not in _REPLACED_ON_COPY}
        headers.update(record.dlq_headers())
        try:
            await self.bus.publish(record, record.subject(), headers=headers)
        except BusUnavailable:
            # Keep the message: it is redelivered and dead-lettered once the bus is back
            # (on the last delivery JetStream's advisory, captured in a stream, remains).
            logger.error(
                "consumer %s: could not dead-letter seq %d; nak'ed instead",
                self.spec.durable_name,
                delivery.stream_sequence,
            )
            await delivery.raw.nak(delay=self.spec.backoff.delay(delivery.num_delivered))
            return
        await delivery.raw.term()
        metrics.CONSUMER_DEAD_LETTERED.add(1, self.labels)
        logger.warning(
            "consumer %s: seq %d dead-lettered after %d deliveries: %s",
            self.spec.durable_name,
            delivery.stream_sequence,
            delivery.num_delivered,
            reason,
        )


def _retry_delay(spec: ConsumerSpec, delivery: Delivery, exc: Exception) -> float:
    """The nak delay: an exact schedule as given, else the backoff (a ``retry_after``
    taking the step's place as a minimum)."""
    if isinstance(exc, TransientError) and exc.exact and exc.retry_after is not None:
        return max(0.0, exc.retry_after)
    retry_after = exc.retry_after if isinstance(exc, TransientError) else None
    return spec.backoff.delay(delivery.num_delivered, retry_after)


def _dead_letter_record(delivery: Delivery, reason: str, error_type: str) -> DeadLettered:
    """The DLQ record, carrying the original's envelope when it can be read."""
    envelope: dict[str, Any] = {}
    with contextlib.suppress(ValueError, TypeError):
        decoded = json.loads(delivery.raw.data)
        if isinstance(decoded, dict):
            envelope = decoded
    tenant = envelope.get("tenant_id")
    original_id: uuid.UUID | None = None
    with contextlib.suppress(ValueError, TypeError, AttributeError):
        original_id = uuid.UUID(str(envelope.get("event_id")))
    original_type = envelope.get("event_type")
    correlation = envelope.get("correlation_id")
    kwargs: dict[str, Any] = {
        "payload": delivery.raw.data,
        "original_subject": delivery.subject,
        "stream": delivery.spec.stream,
        "consumer": delivery.spec.durable_name,
        "stream_sequence": delivery.stream_sequence,
        "delivery_count": delivery.num_delivered,
        "reason": reason,
        "error_type": error_type,
        "headers": dict(delivery.headers),
        "original_event_id": original_id,
        "original_event_type": original_type if isinstance(original_type, str) else None,
        "correlation_id": correlation if isinstance(correlation, str) else None,
    }
    try:
        return DeadLettered.for_message(
            **kwargs, tenant_id=tenant if isinstance(tenant, str) else SYSTEM_TENANT_ID
        )
    except ValidationError:
        # A garbled envelope (bad tenant, oversized ids) must not block dead-lettering.
        kwargs.update(original_event_type=None, correlation_id=None)
        return DeadLettered.for_message(**kwargs, tenant_id=SYSTEM_TENANT_ID)


def consumer(
    bus: Bus,
    spec: ConsumerSpec,
    model: EventModels[E],
    *,
    batch_size: int = 1,
    fetch_timeout: float = 1.0,
) -> Callable[[Handler[E]], Handler[E]]:
    """Register ``handler`` as the durable pull consumer ``spec`` for events of ``model``.

    ``model`` may be a tuple of event classes for a consumer of several event types; a
    message of a type outside the tuple is dead-lettered like any invalid payload.

    Declare consumers before ``bus.start()``: the spec is provisioned there and the
    pull loop binds to that durable. ``batch_size`` is how many messages are handled at
    once, except that deliveries with the same subject (one contact) take turns in
    stream order (:class:`SubjectTurns`).
    """

    def register(handler: Handler[E]) -> Handler[E]:
        if bus.started:
            raise RuntimeError(f"declare consumer {spec.durable_name} before bus.start()")
        bus.add_consumer_spec(spec)
        runner = _Runner(bus, spec, model, handler)
        bus.add_pull_loop(
            PullLoop(spec, runner, concurrency=batch_size, fetch_timeout=fetch_timeout)
        )
        return handler

    return register
