"""JetStream streams and durable consumers, declared once for every service.

Services provision these at start (idempotently, updating a changed spec); nobody
creates a stream or consumer by hand.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta

from cauce_contracts import subjects


@dataclass(frozen=True)
class StreamSpec:
    """A JetStream stream: its name, the subject roots it captures and its limits."""

    name: str
    subjects: tuple[str, ...]
    description: str
    max_age: timedelta = timedelta(days=7)
    #: JetStream drops a publish whose ``Nats-Msg-Id`` it saw within this window.
    duplicate_window: timedelta = timedelta(minutes=2)
    max_bytes: int = -1
    replicas: int = 1
    #: JetStream subject transform applied as messages are stored: (source, destination).
    subject_transform: tuple[str, str] | None = None


@dataclass(frozen=True)
class ConsumerSpec:
    """A durable pull consumer with explicit ack.

    ``backoff`` is the delay before each retry of a transient failure (the runtime naks
    with it, by delivery number, with jitter; the last step repeats); ``ack_wait`` is
    how long JetStream waits for a handler that went silent (handlers send heartbeats
    while they work); ``max_deliver`` bounds the attempts, after which the message is
    dead-lettered.
    """

    durable_name: str
    stream: str
    filter_subjects: tuple[str, ...]
    description: str
    ack_wait: timedelta = timedelta(seconds=30)
    max_deliver: int = 6
    backoff: tuple[timedelta, ...] = field(
        default=(
            timedelta(seconds=1),
            timedelta(seconds=5),
            timedelta(seconds=30),
            timedelta(minutes=2),
            timedelta(minutes=10),
        )
    )
    max_ack_pending: int = 1000

    def __post_init__(self) -> None:
        if self.backoff and self.max_deliver < len(self.backoff):
            raise ValueError(
                f"{self.durable_name}: max_deliver ({self.max_deliver}) must be >= "
                f"len(backoff) ({len(self.backoff)})"
            )


INBOUND = StreamSpec(
    "INBOUND",
    ("inbound.>",),
    "Messages, statuses and unrecognized payloads from channels",
    # Stored message subjects end in a per-contact partition token (see subjects).
    subject_transform=subjects.message_partition_transform(),
)
CRM = StreamSpec("CRM", ("crm.>",), "Contacts, campaign assignments and lead states")
PAYMENTS = StreamSpec(
    "PAYMENTS", ("payments.>",), "Debt lookups, payment links, transaction status"
)
OUTBOUND = StreamSpec("OUTBOUND", ("outbound.>",), "Messages to deliver and their delivery outcome")
DLQ = StreamSpec(
    "DLQ",
    ("dlq.>",),
    "Dead letters: terminated messages with the reason",
    max_age=timedelta(days=30),
)
#: JetStream's max-deliveries advisory is a core-NATS message, lost when nobody listens;
#: capturing it in a stream keeps a record of every exhausted delivery.
ADVISORIES = StreamSpec(
    "ADVISORIES",
    ("$JS.EVENT.ADVISORY.CONSUMER.MAX_DELIVERIES.>",),
    "JetStream max-deliveries advisories",
    max_age=timedelta(days=30),
)

STREAMS: tuple[StreamSpec, ...] = (INBOUND, CRM, PAYMENTS, OUTBOUND, DLQ, ADVISORIES)


# --- durable consumers, one per (service, job) -------------------------------------------
# Services subscribe with these specs instead of inventing names and filters; a changed
# spec is applied at the next start by the runtime's provisioning.


def _conversation_inbound(partition: int) -> ConsumerSpec:
    return ConsumerSpec(
        f"conversation-inbound-p{partition:02d}",
        INBOUND.name,
        (subjects.message_partition_filter(partition),),
        f"conversation: customer messages of partition {partition} drive the bot flows",
        # One message in flight per partition, across all replicas: a contact's
        # messages are handled in arrival order and never concurrently.
        max_ack_pending=1,
        ack_wait=timedelta(seconds=15),
        max_deliver=8,
    )


#: The conversation's customer-message consumers, one per partition
#: (:data:`~cauce_contracts.subjects.MESSAGE_PARTITIONS`).
CONVERSATION_INBOUND: tuple[ConsumerSpec, ...] = tuple(
    _conversation_inbound(partition) for partition in range(subjects.MESSAGE_PARTITIONS)
)
CONVERSATION_PAYMENTS = ConsumerSpec(
    "conversation-payments",
    PAYMENTS.name,
    (
        subjects.all_of(subjects.PAYMENTS_DEBT_LOOKED_UP),
        subjects.all_of(subjects.PAYMENTS_DEBT_LOOKUP_FAILED),
        subjects.all_of(subjects.PAYMENTS_LINK_CREATED),
        subjects.all_of(subjects.PAYMENTS_LINK_FAILED),
        subjects.all_of(subjects.PAYMENTS_TRANSACTION_STATUS_CHANGED),
    ),
    "conversation: debt and payment-link answers, payment confirmations",
)
PAYMENTS_REQUESTS = ConsumerSpec(
    "payments-requests",
    PAYMENTS.name,
    (
        subjects.all_of(subjects.PAYMENTS_DEBT_LOOKUP_REQUESTED),
        subjects.all_of(subjects.PAYMENTS_LINK_REQUESTED),
        subjects.all_of(subjects.PAYMENTS_TRANSACTION_STATUS_CHANGED),
    ),
    "payments: debt lookups and link requests (SCI TOTAL), transaction statuses",
)
CRM_SYNC = ConsumerSpec(
    "crm-sync",
    CRM.name,
    (
        subjects.all_of(subjects.CRM_CONTACT_UPSERTED),
        subjects.all_of(subjects.CRM_CAMPAIGN_ASSIGNED),
        subjects.all_of(subjects.CRM_LEAD_STATE_CHANGED),
    ),
    "crm-sync: leads, campaign assignments and states into PostgreSQL and Odoo",
    # Odoo's 1 request/s makes a slow batch normal: give handlers room before redelivery.
    ack_wait=timedelta(minutes=2),
    max_deliver=8,
    backoff=(
        timedelta(seconds=5),
        timedelta(seconds=30),
        timedelta(minutes=2),
        timedelta(minutes=5),
        timedelta(minutes=10),
        timedelta(minutes=30),
        timedelta(hours=1),
    ),
)
NOTIFIER_REQUESTS = ConsumerSpec(
    "notifier-requests",
    OUTBOUND.name,
    (subjects.all_of(subjects.OUTBOUND_MESSAGE_REQUESTED),),
    "notifier: deliver outbound messages through WhatsApp Cloud API / Chattigo / YCloud",
    # Waiting is normal here (send slots, Retry-After, a recipient's pair limit, failing
    # credentials being fixed) and each wait is a redelivery, so deliveries are many;
    # failed provider calls are counted by the notifier itself and give up much sooner.
    max_deliver=500,
    backoff=(
        timedelta(seconds=1),
        timedelta(seconds=5),
        timedelta(seconds=15),
        timedelta(seconds=30),
        timedelta(minutes=1),
        timedelta(minutes=2),
        timedelta(minutes=5),
    ),
)
NOTIFIER_WINDOWS = ConsumerSpec(
    "notifier-windows",
    INBOUND.name,
    (subjects.all_of(subjects.INBOUND_MESSAGE_RECEIVED),),
    "notifier: when each contact last wrote (WhatsApp's 24-hour customer-service window)",
)
NOTIFIER_STATUSES = ConsumerSpec(
    "notifier-statuses",
    INBOUND.name,
    (subjects.all_of(subjects.INBOUND_STATUS_UPDATED),),
    "notifier: delivery status timeline from the channels' status webhooks",
)

CONSUMERS: tuple[ConsumerSpec, ...] = (
    *CONVERSATION_INBOUND,
    CONVERSATION_PAYMENTS,
    PAYMENTS_REQUESTS,
    CRM_SYNC,
    NOTIFIER_REQUESTS,
    NOTIFIER_STATUSES,
    NOTIFIER_WINDOWS,
)


def stream_named(name: str) -> StreamSpec:
    """The stream spec called ``name`` (:class:`KeyError` if none)."""
    for stream in STREAMS:
        if stream.name == name:
            return stream
    raise KeyError(name)
