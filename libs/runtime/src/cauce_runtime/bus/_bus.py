"""The NATS JetStream bus every service shares, on nats-py.

:class:`Bus` connects (reconnecting forever once it was up), provisions the streams and
the service's durable consumers, runs their pull loops (:mod:`cauce_runtime.bus`'s
consumers) and publishes with PubAck. Provisioning *updates* a changed stream or
consumer (``pull_subscribe`` only creates), and a publish waits for JetStream's PubAck
no longer than a given timeout, failing with :class:`BusUnavailable` instead (the
gateway answers 503 then).
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from typing import TYPE_CHECKING

import nats
import nats.errors
import nats.js.errors
from nats.aio.client import Client
from nats.js.api import PubAck
from nats.js.client import JetStreamContext
from opentelemetry.context import Context
from opentelemetry.trace import Link, Span, SpanKind, Status, StatusCode

from cauce_contracts.envelope import Event
from cauce_contracts.streams import STREAMS, StreamSpec
from cauce_runtime._errors import BusUnavailable
from cauce_runtime.bus._connection import sign_in_options
from cauce_runtime.bus._lag import DEFAULT_INTERVAL_S, JetStreamLagPoller
from cauce_runtime.bus._provisioning import (
    ProvisionReport,
    provision_consumers,
    provision_streams,
    with_replicas,
)
from cauce_runtime.bus._publisher import NewTrace, Publication
from cauce_runtime.bus._pull_loop import PullLoop
from cauce_runtime.bus._spec import ConsumerSpec
from cauce_runtime.telemetry import metrics
from cauce_runtime.telemetry._messaging_spans import (
    batch_publish_attributes,
    describe_subject,
    publish_attributes,
)
from cauce_runtime.telemetry._tracing import get_tracer, inject_headers, record_exception

if TYPE_CHECKING:
    from cauce_runtime._settings import ServiceSettings

logger = logging.getLogger(__name__)

HEADER_MSG_ID = "Nats-Msg-Id"
HEADER_EVENT_TYPE = "Cauce-Event-Type"
HEADER_SCHEMA_VERSION = "Cauce-Schema-Version"
HEADER_CONTENT_TYPE = "content-type"
JSON_CONTENT_TYPE = "application/json"

#: nats-py errors that mean "the bus did not take the message".
_UNAVAILABLE_ERRORS: tuple[type[BaseException], ...] = (
    TimeoutError,
    nats.errors.Error,  # timeout, no responders, connection closed, outbound buffer full...
    nats.js.errors.Error,  # API errors in the PubAck (e.g. stream full)
    OSError,
)


class Bus:
    """One service's connection to JetStream: provisioning, publishing, subscribers.

    ``streams``/``consumers`` are provisioned by :meth:`start`; consumers declared with
    :func:`cauce_runtime.consumer` are added automatically.
    """

    def __init__(
        self,
        settings: ServiceSettings,
        *,
        streams: Iterable[StreamSpec] = STREAMS,
        consumers: Iterable[ConsumerSpec] = (),
        reconnect_wait_s: float = 0.5,
        lag_poll_interval_s: float = DEFAULT_INTERVAL_S,
    ) -> None:
        self.settings = settings
        self.streams: list[StreamSpec] = with_replicas(streams, settings.stream_replicas)
        self.consumers: dict[str, ConsumerSpec] = {}
        for spec in consumers:
            self.add_consumer_spec(spec)
        self._reconnect_wait_s = reconnect_wait_s
        self._pull_loops: list[PullLoop] = []
        self._nc: Client | None = None
        self._js: JetStreamContext | None = None
        self._started = False
        self._stopping = False
        self._tracer = get_tracer()
        self._lag_poll_interval_s = lag_poll_interval_s
        self._lag_poller: JetStreamLagPoller | None = None

    # --- lifecycle ------------------------------------------------------------------

    @property
    def started(self) -> bool:
        return self._started

    @property
    def connected(self) -> bool:
        """True while the NATS connection is up (False before start, while reconnecting)."""
        return self._nc is not None and self._nc.is_connected

    async def ping(self, timeout: float = 1.0) -> bool:  # noqa: ASYNC109 - bounded probe
        """True when the server answers a PING within ``timeout`` (a live round trip,
        which notices a dead connection before the client's own ping interval does)."""
        if self._nc is None or not self._nc.is_connected:
            return False
        try:
            await self._nc.flush(timeout=timeout)  # type: ignore[arg-type]
        except _UNAVAILABLE_ERRORS:
            return False
        return self._nc.is_connected

    @property
    def connection(self) -> Client:
        if self._nc is None:
            raise BusUnavailable("bus not started")
        return self._nc

    def add_pull_loop(self, loop: PullLoop) -> None:
        """Run ``loop`` while the bus is started (its durable is provisioned first)."""
        self._pull_loops.append(loop)

    def add_consumer_spec(self, spec: ConsumerSpec) -> None:
        existing = self.consumers.get(spec.durable_name)
        if existing is not None and existing != spec:
            raise ValueError(f"two different specs for durable {spec.durable_name!r}")
        self.consumers[spec.durable_name] = spec

    async def start(self) -> ProvisionReport:
        """Connect (bounded by ``nats_connect_timeout``), provision, start subscribers.

        Raises :class:`BusUnavailable` when NATS cannot be reached in time; once
        connected, the client reconnects forever on its own.
        """
        if self._started:
            return ProvisionReport()
        try:
            async with asyncio.timeout(self.settings.nats_connect_timeout):
                nc = await self._connect()
        except _UNAVAILABLE_ERRORS as exc:
            raise BusUnavailable(f"cannot connect to NATS at {self._safe_url()}: {exc!r}") from exc
        self._nc = nc
        self._js = nc.jetstream(timeout=self.settings.publish_timeout_s)
        report = await self.provision(self.streams, self.consumers.values())
        for loop in self._pull_loops:
            await loop.start(nc.jetstream())
        # Lag and stream sizes for /metrics (cauce_consumer_pending & co.).
        self._lag_poller = JetStreamLagPoller(
            self.consumers.values(),
            (stream.name for stream in self.streams),
            interval_s=self._lag_poll_interval_s,
            max_storage_bytes=self.settings.jetstream_max_storage_bytes,
        )
        self._lag_poller.start(nc.jsm(), lambda: self.connected)
        self._started = True
        logger.info("bus connected to %s", self._safe_url())
        return report

    async def stop(self) -> None:
        """Stop subscribers (waiting for in-flight handlers), then drain the connection."""
        if self._nc is None:
            return
        self._stopping = True
        if self._lag_poller is not None:
            await self._lag_poller.stop()
            self._lag_poller = None
        await asyncio.gather(
            *(loop.stop(self.settings.shutdown_timeout_s) for loop in self._pull_loops)
        )
        try:
            await self._nc.drain()
        except (nats.errors.Error, TimeoutError) as exc:
            # Draining needs a live connection; while reconnecting there is nothing
            # to flush, so the connection is just closed.
            logger.warning("bus stopped without draining: %r", exc)
        finally:
            if not self._nc.is_closed:
                await self._nc.close()
            await _reap_reconnect_task(self._nc)
            self._nc = None
            self._js = None
            self._started = False
            self._stopping = False

    async def _connect(self) -> Client:
        return await nats.connect(
            servers=self.settings.nats_url,
            name=self.settings.service_name,
            connect_timeout=self.settings.nats_connect_timeout,
            allow_reconnect=True,
            max_reconnect_attempts=-1,  # reconnect forever; readiness reports the gap
            reconnect_time_wait=self._reconnect_wait_s,
            drain_timeout=self.settings.shutdown_timeout_s,
            disconnected_cb=self._on_disconnected,
            reconnected_cb=self._on_reconnected,
            closed_cb=self._on_closed,
            error_cb=self._on_error,
            **sign_in_options(self.settings),
        )

    async def provision(
        self, streams: Iterable[StreamSpec], consumers: Iterable[ConsumerSpec]
    ) -> ProvisionReport:
        """Create missing streams/consumers and update changed ones; idempotent."""
        jsm = self.connection.jsm()
        report = ProvisionReport()
        await provision_streams(jsm, streams, report)
        await provision_consumers(jsm, consumers, report)
        return report

    # --- publishing -----------------------------------------------------------------

    async def publish(
        self,
        event: Event,
        subject: str,
        *,
        msg_id: str | None = None,
        headers: Mapping[str, str] | None = None,
        timeout: float | None = None,  # noqa: ASYNC109 - the PubAck wait is the API
        new_trace: NewTrace | None = None,
    ) -> PubAck:
        """Publish ``event`` and wait for JetStream's acknowledgement.

        ``msg_id`` (default: the event id) goes in ``Nats-Msg-Id``, so JetStream drops a
        repeat inside the stream's duplicate window (``PubAck.duplicate`` is then True).
        Raises :class:`BusUnavailable` if the PubAck does not arrive within ``timeout``
        (default ``publish_timeout_s``), nobody serves the subject, or the bus is down.
        ``new_trace``: its PRODUCER span begins a trace of its own (:class:`NewTrace`).
        """
        all_headers = dict(headers) if headers else {}
        all_headers.update(_event_headers(event, msg_id))
        return await self._publish_traced(
            subject,
            event.model_dump_json().encode(),
            all_headers,
            timeout,
            f"publish {event.event_type or subject}",
            new_trace,
        )

    async def publish_batch(
        self,
        batch: Sequence[Publication],
        *,
        timeout: float | None = None,  # noqa: ASYNC109
    ) -> list[PubAck]:
        """Publish several events at once; return when JetStream acknowledged every one.

        For a burst (a webhook of a thousand delivery statuses): one PRODUCER span for the
        whole batch (``messaging.batch.message_count``; every message carries its
        context, so each consumer's span is its child), every publish in flight at once,
        one duration sample and one count per outcome. Each message keeps its own
        ``Nats-Msg-Id``. A publication with a ``new_trace`` (bulk work: a campaign's
        recipients) is the root PRODUCER span of a trace of its own instead, as
        :meth:`publish` makes it, the metrics still counted once for the batch. If any
        publish fails, :class:`BusUnavailable` is raised after all settled; the ones that
        landed are dropped as duplicates when the caller retries the batch. A batch of
        one is :meth:`publish`.
        """
        if not batch:
            return []
        if len(batch) == 1:
            only = batch[0]
            return [
                await self.publish(
                    only.event, only.subject, msg_id=only.msg_id, new_trace=only.new_trace
                )
            ]
        timeout = self.settings.publish_timeout_s if timeout is None else timeout
        described = [describe_subject(item.subject) for item in batch]
        started = time.perf_counter()
        rooted = [item.new_trace is not None for item in batch]
        roots = asyncio.gather(
            *(self._publish_root(item, timeout) for item in batch if item.new_trace is not None),
            return_exceptions=True,
        )
        together = self._publish_together(
            [item for item in batch if item.new_trace is None],
            [d for d, own in zip(described, rooted, strict=True) if not own],
            timeout,
        )
        root_results, shared_results = await asyncio.gather(roots, together)
        by_root, by_batch = iter(root_results), iter(shared_results)
        results = [next(by_root) if own else next(by_batch) for own in rooted]
        _record_batch(time.perf_counter() - started, [t for _, t in described], results)
        failure = next((r for r in results if isinstance(r, BaseException)), None)
        if failure is not None:
            raise failure
        return [r for r in results if isinstance(r, PubAck)]

    async def _publish_together(
        self,
        batch: Sequence[Publication],
        described: list[tuple[str, str]],
        timeout: float,  # noqa: ASYNC109
    ) -> list[PubAck | BaseException]:
        """``batch`` under one PRODUCER span; each outcome, none raised."""
        if not batch:
            return []
        types = {item.event.event_type for item in batch}
        name = f"publish {next(iter(types))}" if len(types) == 1 else "publish"
        with self._tracer.start_as_current_span(
            name, kind=SpanKind.PRODUCER, attributes=batch_publish_attributes(described)
        ) as span:
            context = inject_headers({})
            results = await asyncio.gather(
                *(
                    self._publish_with_ack(
                        item.subject,
                        item.event.model_dump_json().encode(),
                        {**_event_headers(item.event, item.msg_id), **context},
                        timeout,
                    )
                    for item in batch
                ),
                return_exceptions=True,
            )
            failure = next((r for r in results if isinstance(r, BaseException)), None)
            if failure is not None:
                _mark_unavailable(span, failure)
            acks = [r for r in results if isinstance(r, PubAck)]
            streams = {ack.stream for ack in acks}
            if len(streams) == 1:  # as the destination: named when all share it
                span.set_attribute("messaging.nats.stream", streams.pop())
            return list(results)

    async def _publish_root(self, item: Publication, timeout: float) -> PubAck:  # noqa: ASYNC109
        """One publication of a batch as the root span of its own trace (the batch
        records the metrics)."""
        return await self._publish_traced(
            item.subject,
            item.event.model_dump_json().encode(),
            _event_headers(item.event, item.msg_id),
            timeout,
            None,
            item.new_trace,
            metered=False,
        )

    async def publish_bytes(
        self,
        subject: str,
        payload: bytes,
        *,
        headers: Mapping[str, str] | None = None,
        timeout: float | None = None,  # noqa: ASYNC109
        span_name: str | None = None,
    ) -> PubAck:
        """Publish raw bytes with PubAck (``publish`` without the event envelope)."""
        all_headers = dict(headers) if headers else {}
        return await self._publish_traced(subject, payload, all_headers, timeout, span_name)

    async def _publish_traced(
        self,
        subject: str,
        payload: bytes,
        all_headers: dict[str, str],
        timeout: float | None,  # noqa: ASYNC109
        span_name: str | None,
        new_trace: NewTrace | None = None,
        *,
        metered: bool = True,
    ) -> PubAck:
        """The PRODUCER span around one publish; ``all_headers`` is this call's own copy.
        ``metered``: count the publish and its duration (a batch counts its own)."""
        timeout = self.settings.publish_timeout_s if timeout is None else timeout
        attributes = publish_attributes(subject, len(payload), all_headers.get(HEADER_MSG_ID))
        destination = {
            "messaging.destination.template": attributes["messaging.destination.template"]
        }
        context: Context | None = None
        links: Sequence[Link] = ()
        if new_trace is not None:
            span_name, context, links = new_trace.name, Context(), new_trace.links
            attributes = {**attributes, **new_trace.attributes}
        started = time.perf_counter()
        with self._tracer.start_as_current_span(
            span_name or f"publish {subject}",
            context=context,
            kind=SpanKind.PRODUCER,
            attributes=attributes,
            links=links,
        ) as span:
            for stale in [k for k in all_headers if k.lower() in ("traceparent", "tracestate")]:
                del all_headers[stale]
            inject_headers(all_headers)
            try:
                ack = await self._publish_with_ack(subject, payload, all_headers, timeout)
            except BusUnavailable as exc:
                if metered:
                    metrics.PUBLISHED.add(1, {**destination, "outcome": "unavailable"})
                _mark_unavailable(span, exc)
                raise
            finally:
                if metered:
                    metrics.PUBLISH_SECONDS.record(time.perf_counter() - started, destination)
            span.set_attributes(_ack_attributes(ack))
            if metered:
                outcome = "duplicate" if ack.duplicate else "acked"
                metrics.PUBLISHED.add(1, {**destination, "outcome": outcome})
            return ack

    async def _publish_with_ack(
        self,
        subject: str,
        payload: bytes,
        headers: dict[str, str],
        timeout: float,  # noqa: ASYNC109
    ) -> PubAck:
        if self._js is None or self._nc is None or self._nc.is_closed:
            raise BusUnavailable("bus not connected", retry_after=1.0)
        try:
            # nats-py buffers while reconnecting; the outer timeout bounds that too.
            async with asyncio.timeout(timeout):
                return await self._js.publish(subject, payload, timeout=timeout, headers=headers)
        except _UNAVAILABLE_ERRORS as exc:
            raise BusUnavailable(
                f"publish to {subject} not acknowledged: {type(exc).__name__}", retry_after=1.0
            ) from exc

    # --- connection callbacks ----------------------------------------------------------

    def _safe_url(self) -> str:
        """The NATS URL without credentials, for logs."""
        url = self.settings.nats_url
        scheme, sep, rest = url.partition("://")
        return f"{scheme}{sep}{rest.rpartition('@')[2]}" if sep else url.rpartition("@")[2]

    async def _on_disconnected(self) -> None:
        if self._stopping:
            return
        logger.warning("bus disconnected from NATS; reconnecting")

    async def _on_reconnected(self) -> None:
        logger.warning("bus reconnected to NATS at %s", self._safe_url())

    async def _on_closed(self) -> None:
        logger.info("bus connection closed")

    async def _on_error(self, error: Exception) -> None:
        logger.debug("nats client error: %r", error)


async def _reap_reconnect_task(nc: Client, attempts: int = 20) -> None:
    """Make sure nats-py's reconnect loop ended after ``close()``.

    Closing while reconnecting to a refused port can lose the cancellation (Python
    3.11's ``wait_for`` swallows it when the connect attempt fails at the same time);
    the loop then retries forever and blocks event-loop shutdown. Cancel until done.
    """
    task: asyncio.Task[None] | None = getattr(nc, "_reconnection_task", None)
    for _ in range(attempts):
        if task is None or task.done():
            return
        task.cancel()
        await asyncio.wait({task}, timeout=0.05)
    logger.warning("nats reconnect task did not stop after close()")


def _event_headers(event: Event, msg_id: str | None) -> dict[str, str]:
    """The headers every event is published with (``msg_id`` defaults to the event id)."""
    return {
        HEADER_MSG_ID: msg_id or str(event.event_id),
        HEADER_EVENT_TYPE: event.event_type,
        HEADER_SCHEMA_VERSION: str(event.schema_version),
        HEADER_CONTENT_TYPE: JSON_CONTENT_TYPE,
    }


def _ack_attributes(ack: PubAck) -> dict[str, str | int | bool]:
    """Where JetStream stored a published message (and whether it was a repeat)."""
    return {
        "messaging.nats.stream": ack.stream,
        "messaging.nats.sequence": ack.seq,
        "messaging.nats.duplicate": bool(ack.duplicate),
    }


def _mark_unavailable(span: Span, failure: BaseException) -> None:
    """A publish span whose message the bus did not take."""
    record_exception(span, failure)
    span.set_attribute("error.type", type(failure).__name__)
    span.set_status(Status(StatusCode.ERROR, "bus unavailable"))


def _record_batch(
    seconds: float, templates: list[str], results: Sequence[PubAck | BaseException]
) -> None:
    """A batch's metrics: one duration per subject template, one count per outcome."""
    outcomes: Counter[tuple[str, str]] = Counter()
    for template, result in zip(templates, results, strict=True):
        if isinstance(result, PubAck):
            outcomes[template, "duplicate" if result.duplicate else "acked"] += 1
        else:
            outcomes[template, "unavailable"] += 1
    for template in set(templates):
        metrics.PUBLISH_SECONDS.record(seconds, {"messaging.destination.template": template})
    for (template, outcome), count in outcomes.items():
        metrics.PUBLISHED.add(
            count, {"messaging.destination.template": template, "outcome": outcome}
        )
