"""JetStream streams and who subscribes to them, declared once for every service.

Services provision the streams at start (idempotently, updating a changed spec); nobody
creates a stream or consumer by hand.
"""

from __future__ import annotations

from dataclasses import dataclass
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
class Subscription:
    """Who reads what: a durable pull consumer's name, its stream and its filters.

    This is the contract between producers and a consumer (the AsyncAPI document lists
    each event's subscribers from it). How the consumer is tuned (ack wait, deliveries,
    backoff, messages in flight) is the consuming service's business: it declares a
    ``cauce_runtime.ConsumerSpec`` from its subscription.
    """

    durable_name: str
    stream: str
    filter_subjects: tuple[str, ...]
    description: str


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

#: Live hints for agents' screens (a chat changed): kept an hour, enough to resume a
#: dropped connection (Last-Event-ID); the chats themselves live in MongoDB.
INBOX = StreamSpec(
    "INBOX",
    ("inbox.>",),
    "Chats changed, pushed to agents' screens",
    max_age=timedelta(hours=1),
)

STREAMS: tuple[StreamSpec, ...] = (INBOUND, CRM, PAYMENTS, OUTBOUND, DLQ, ADVISORIES, INBOX)


# --- subscriptions, one per (service, job) ----------------------------------------------
# Services subscribe with these instead of inventing names and filters; each service
# tunes its own consumers (see Subscription).


def _conversation_inbound(partition: int) -> Subscription:
    return Subscription(
        f"conversation-inbound-p{partition:02d}",
        INBOUND.name,
        (subjects.message_partition_filter(partition),),
        f"conversation: customer messages of partition {partition} drive the bot flows",
    )


#: The conversation's customer-message consumers, one per partition
#: (:data:`~cauce_contracts.subjects.MESSAGE_PARTITIONS`).
CONVERSATION_INBOUND: tuple[Subscription, ...] = tuple(
    _conversation_inbound(partition) for partition in range(subjects.MESSAGE_PARTITIONS)
)
CONVERSATION_PAYMENTS = Subscription(
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
PAYMENTS_REQUESTS = Subscription(
    "payments-requests",
    PAYMENTS.name,
    (
        subjects.all_of(subjects.PAYMENTS_DEBT_LOOKUP_REQUESTED),
        subjects.all_of(subjects.PAYMENTS_LINK_REQUESTED),
        subjects.all_of(subjects.PAYMENTS_TRANSACTION_STATUS_CHANGED),
    ),
    "payments: debt lookups and link requests (SCI TOTAL), transaction statuses",
)
CRM_SYNC = Subscription(
    "crm-sync",
    CRM.name,
    (
        subjects.all_of(subjects.CRM_CONTACT_UPSERTED),
        subjects.all_of(subjects.CRM_CAMPAIGN_ASSIGNED),
        subjects.all_of(subjects.CRM_LEAD_STATE_CHANGED),
        subjects.all_of(subjects.CRM_ODOO_RECORD_CHANGED),
    ),
    "crm-sync: leads, campaign assignments and states into PostgreSQL and Odoo, "
    "and Odoo's changes back",
)
NOTIFIER_REQUESTS = Subscription(
    "notifier-requests",
    OUTBOUND.name,
    (subjects.all_of(subjects.OUTBOUND_MESSAGE_REQUESTED),),
    "notifier: deliver outbound messages through WhatsApp Cloud API / Chattigo / YCloud",
)
NOTIFIER_CAMPAIGN_SENDS = Subscription(
    "notifier-campaign-sends",
    OUTBOUND.name,
    (subjects.all_of(subjects.OUTBOUND_CAMPAIGN_MESSAGE_REQUESTED),),
    "notifier: deliver bulk campaigns' messages, apart from conversation replies",
)
NOTIFIER_BUSINESS_ACCOUNT = Subscription(
    "notifier-business-account",
    INBOUND.name,
    (
        subjects.all_of(subjects.INBOUND_TEMPLATE_STATUS_CHANGED),
        subjects.all_of(subjects.INBOUND_TEMPLATE_QUALITY_CHANGED),
        subjects.all_of(subjects.INBOUND_TEMPLATE_CATEGORY_CHANGED),
        subjects.all_of(subjects.INBOUND_TEMPLATE_COMPONENTS_CHANGED),
        subjects.all_of(subjects.INBOUND_MESSAGING_LIMIT_CHANGED),
        subjects.all_of(subjects.INBOUND_MARKETING_PREFERENCE_CHANGED),
    ),
    "notifier: templates' status and quality, messaging limits and marketing opt-outs",
)
NOTIFIER_WINDOWS = Subscription(
    "notifier-windows",
    INBOUND.name,
    (subjects.all_of(subjects.INBOUND_MESSAGE_RECEIVED),),
    "notifier: when each contact last wrote (WhatsApp's 24-hour customer-service window)",
)
NOTIFIER_STATUSES = Subscription(
    "notifier-statuses",
    INBOUND.name,
    (subjects.all_of(subjects.INBOUND_STATUS_UPDATED),),
    "notifier: delivery status timeline from the channels' status webhooks",
)

CONVERSATION_DELIVERY = Subscription(
    "conversation-delivery",
    OUTBOUND.name,
    (subjects.all_of(subjects.OUTBOUND_STATUS_CHANGED),),
    "conversation: each reply's delivery status (sent, delivered, read, failed) in the chat",
)

NOTIFIER_MEDIA = Subscription(
    "notifier-media",
    INBOUND.name,
    (subjects.all_of(subjects.INBOUND_MESSAGE_RECEIVED),),
    "notifier: customers' files downloaded from the provider into the media object store",
)
CONVERSATION_MEDIA = Subscription(
    "conversation-media",
    INBOUND.name,
    (
        subjects.all_of(subjects.INBOUND_MEDIA_STORED),
        subjects.all_of(subjects.INBOUND_MEDIA_REFUSED),
    ),
    "conversation: a customer's file kept (or refused) shown on its message",
)
#: Only the ``status`` changes to ``resolved`` matter; the filter cannot tell them
#: apart, so the consumer skips the rest. The INBOX stream keeps an hour: a consumer
#: down for longer misses those chats (their summaries can still be asked for).
CONVERSATION_RESOLVED_CHATS = Subscription(
    "conversation-assist",
    INBOX.name,
    (subjects.all_of(subjects.INBOX_CHAT_CHANGED),),
    "conversation: a resolved chat summarised, when its company asks for it",
)

SUBSCRIPTIONS: tuple[Subscription, ...] = (
    *CONVERSATION_INBOUND,
    CONVERSATION_PAYMENTS,
    CONVERSATION_DELIVERY,
    PAYMENTS_REQUESTS,
    CRM_SYNC,
    NOTIFIER_REQUESTS,
    NOTIFIER_CAMPAIGN_SENDS,
    NOTIFIER_BUSINESS_ACCOUNT,
    NOTIFIER_STATUSES,
    NOTIFIER_WINDOWS,
    NOTIFIER_MEDIA,
    CONVERSATION_MEDIA,
    CONVERSATION_RESOLVED_CHATS,
)


def stream_named(name: str) -> StreamSpec:
    """The stream spec called ``name`` (:class:`KeyError` if none)."""
    for stream in STREAMS:
        if stream.name == name:
            return stream
    raise KeyError(name)
