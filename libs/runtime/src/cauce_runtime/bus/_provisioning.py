"""Bring JetStream streams and durable consumers to their declared specs, idempotently.

Run at every service start. A missing stream or consumer is created; one whose
server-side config differs from the spec is updated (``update_stream`` /
``add_consumer`` with the durable name, which the server treats as create-or-update)
and the changed fields are logged. ``pull_subscribe()`` would silently keep an old
consumer config, so subscribers only ever bind to what this module provisioned.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from typing import Any

from nats.js.api import (
    AckPolicy,
    ConsumerConfig,
    DeliverPolicy,
    DiscardPolicy,
    ReplayPolicy,
    RetentionPolicy,
    StorageType,
    StreamConfig,
    SubjectTransform,
)
from nats.js.errors import APIError, NotFoundError
from nats.js.manager import JetStreamManager

from cauce_contracts.streams import StreamSpec
from cauce_runtime._errors import ProvisioningError
from cauce_runtime.bus._spec import ConsumerSpec

logger = logging.getLogger(__name__)

#: Float seconds compared with this tolerance (the server stores nanoseconds).
_SECONDS_TOLERANCE = 1e-3


@dataclass
class ProvisionReport:
    """What one provisioning pass did, by stream / ``stream/durable`` name."""

    created: list[str] = field(default_factory=list)
    updated: dict[str, list[str]] = field(default_factory=dict)
    unchanged: list[str] = field(default_factory=list)

    @property
    def changed(self) -> bool:
        return bool(self.created or self.updated)


def with_replicas(specs: Iterable[StreamSpec], replicas: int) -> list[StreamSpec]:
    """``specs`` with ``replicas`` copies each (the deployment's choice, not the contract's)."""
    return [replace(spec, replicas=replicas) for spec in specs]


def stream_config(spec: StreamSpec) -> StreamConfig:
    return StreamConfig(
        name=spec.name,
        description=spec.description,
        subjects=list(spec.subjects),
        retention=RetentionPolicy.LIMITS,
        storage=StorageType.FILE,
        discard=DiscardPolicy.OLD,
        max_age=spec.max_age.total_seconds(),
        duplicate_window=spec.duplicate_window.total_seconds(),
        max_bytes=spec.max_bytes,
        num_replicas=spec.replicas,
        subject_transform=(
            SubjectTransform(src=spec.subject_transform[0], dest=spec.subject_transform[1])
            if spec.subject_transform
            else None
        ),
    )


def _transform(config: StreamConfig) -> tuple[str, str] | None:
    transform = config.subject_transform
    return None if transform is None else (transform.src, transform.dest)


def consumer_config(spec: ConsumerSpec) -> ConsumerConfig:
    """The JetStream config of a durable pull consumer with explicit ack.

    The spec's ``backoff`` is *not* given to JetStream: the runtime applies it itself,
    naking each transient failure with the delay for that delivery. Measured with
    nats-server 2.15.1: on a consumer with a BackOff, a nak's delay is honoured for the
    first redelivery only, later ones wait for the BackOff/ack-wait schedule instead
    (a 1 s Retry-After became 30 s). Without a BackOff, every nak delay is honoured and
    ``ack_wait`` only governs deliveries whose handler died (heartbeats keep slow
    handlers alive).
    """
    single = len(spec.filter_subjects) == 1
    return ConsumerConfig(
        name=spec.durable_name,
        durable_name=spec.durable_name,
        description=spec.description,
        deliver_policy=DeliverPolicy.ALL,
        ack_policy=AckPolicy.EXPLICIT,
        replay_policy=ReplayPolicy.INSTANT,
        ack_wait=spec.ack_wait.total_seconds(),
        max_deliver=spec.max_deliver,
        backoff=None,
        filter_subject=spec.filter_subjects[0] if single else None,
        filter_subjects=None if single else list(spec.filter_subjects),
        max_ack_pending=spec.max_ack_pending,
    )


def _same(expected: Any, actual: Any) -> bool:
    if isinstance(expected, float) or isinstance(actual, float):
        return abs(float(expected or 0) - float(actual or 0)) <= _SECONDS_TOLERANCE
    if isinstance(expected, list) and isinstance(actual, list):
        return len(expected) == len(actual) and all(
            _same(e, a) for e, a in zip(expected, actual, strict=True)
        )
    return bool(expected == actual)


def _stream_diff(expected: StreamConfig, actual: StreamConfig) -> list[str]:
    changed = []
    if sorted(expected.subjects or []) != sorted(actual.subjects or []):
        changed.append("subjects")
    if _transform(expected) != _transform(actual):
        changed.append("subject_transform")
    for name in ("description", "max_age", "duplicate_window", "max_bytes", "num_replicas"):
        if not _same(getattr(expected, name), getattr(actual, name)):
            changed.append(name)
    return changed


def _consumer_diff(expected: ConsumerConfig, actual: ConsumerConfig) -> list[str]:
    changed = []
    expected_filters = sorted(
        [expected.filter_subject] if expected.filter_subject else expected.filter_subjects or []
    )
    actual_filters = sorted(
        [actual.filter_subject] if actual.filter_subject else actual.filter_subjects or []
    )
    if expected_filters != actual_filters:
        changed.append("filter_subjects")
    for name in (
        "description",
        "ack_wait",
        "max_deliver",
        "backoff",
        "max_ack_pending",
        "ack_policy",
    ):
        if not _same(
            getattr(expected, name), getattr(actual, name) or (None if name == "backoff" else 0)
        ):
            changed.append(name)
    return changed


async def provision_streams(
    jsm: JetStreamManager, specs: Iterable[StreamSpec], report: ProvisionReport
) -> None:
    for spec in specs:
        expected = stream_config(spec)
        try:
            info = await jsm.stream_info(spec.name)
        except NotFoundError:
            await jsm.add_stream(expected)
            logger.info("stream %s created (subjects %s)", spec.name, ", ".join(spec.subjects))
            report.created.append(spec.name)
            continue
        diff = _stream_diff(expected, info.config)
        if not diff:
            report.unchanged.append(spec.name)
            continue
        try:
            await jsm.update_stream(expected)
        except APIError as exc:
            raise ProvisioningError(f"stream {spec.name}: cannot apply {diff}: {exc}") from exc
        logger.warning("stream %s updated: %s", spec.name, ", ".join(diff))
        report.updated[spec.name] = diff


async def provision_consumers(
    jsm: JetStreamManager, specs: Iterable[ConsumerSpec], report: ProvisionReport
) -> None:
    for spec in specs:
        key = f"{spec.stream}/{spec.durable_name}"
        expected = consumer_config(spec)
        try:
            info = await jsm.consumer_info(spec.stream, spec.durable_name)
        except NotFoundError:
            info = None
        diff = [] if info is None else _consumer_diff(expected, info.config)
        if info is not None and not diff:
            report.unchanged.append(key)
            continue
        try:
            await jsm.add_consumer(spec.stream, expected)
        except APIError as exc:
            raise ProvisioningError(
                f"consumer {key}: cannot apply {diff or 'create'}: {exc}"
            ) from exc
        if info is None:
            logger.info("consumer %s created", key)
            report.created.append(key)
        else:
            logger.warning("consumer %s updated: %s", key, ", ".join(diff))
            report.updated[key] = diff
