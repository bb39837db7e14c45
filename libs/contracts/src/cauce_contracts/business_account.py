"""What Meta tells us about a WhatsApp Business Account beyond messages and statuses.

Campaigns depend on these: a template paused or rejected mid-campaign must pause the
campaign, a number's messaging limit paces it, and a customer who asked to stop
marketing messages must never get another one. They travel on ``inbound.>`` like the
other webhook events (the gateway publishes them; the notifier consumes them).

* :class:`TemplateStatusChanged` (``message_template_status_update``): approved,
  rejected, paused, disabled...; ``reason`` says why.
* :class:`TemplateQualityChanged` (``message_template_quality_update``).
* :class:`TemplateCategoryChanged` (``template_category_update``).
* :class:`TemplateComponentsChanged` (``message_template_components_update``).
* :class:`MessagingLimitChanged` (``phone_number_quality_update``,
  ``business_capability_update``): how many unique customers the account may reach
  outside the customer-service window in a moving 24 hours.
* :class:`MarketingPreferenceChanged` (``user_preferences``): a customer stopped or
  resumed marketing messages.

Meta's status, quality and category names are kept as Meta spells them (upper case),
not closed enums: Meta adds values, and an event that fails validation would be lost to
the dead letters instead of reaching the template store.
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import AwareDatetime, Field, StringConstraints

from cauce_contracts.envelope import Contract, Event
from cauce_contracts.fields import ContactKey, ProviderId, SubjectToken
from cauce_contracts.inbound import InboundContact
from cauce_contracts.subjects import Channel

#: A Meta enum value as Meta spells it: ``APPROVED``, ``PAUSED``, ``YELLOW``, ``MARKETING``.
MetaName = Annotated[str, StringConstraints(pattern=r"^[A-Z][A-Z0-9_]{0,63}$")]
#: Meta's free texts on these webhooks (reasons, template texts), bounded.
Text = Annotated[str, Field(max_length=4096)]


class TemplateRef(Contract):
    """Which template: Meta's id, and the name + language a send names it by."""

    template_id: ProviderId | None = None
    name: Annotated[str, Field(min_length=1, max_length=512)]
    language: Annotated[str, Field(min_length=2, max_length=15)]


class _TemplateEvent(Event):
    channel: Channel
    #: The WhatsApp Business Account (WABA) id the template belongs to.
    business_account_id: SubjectToken
    template: TemplateRef
    #: When Meta says it happened (the entry's ``time``), else when we received it.
    changed_at: AwareDatetime


class TemplateStatusChanged(_TemplateEvent):
    """A template's review or delivery status changed (``event`` in Meta's payload)."""

    EVENT_TYPE = "inbound.template.status_changed"

    status: MetaName
    #: Meta's reason code (``NONE``, ``INCORRECT_CATEGORY``, ...), when it gave one.
    reason: MetaName | None = None
    #: Meta's longer explanation (``other_info``/``disable_info`` title and text).
    detail: Text | None = None


class TemplateQualityChanged(_TemplateEvent):
    """A template's quality rating moved (``GREEN``, ``YELLOW``, ``RED``, ``UNKNOWN``)."""

    EVENT_TYPE = "inbound.template.quality_changed"

    previous_quality: MetaName | None = None
    quality: MetaName


class TemplateCategoryChanged(_TemplateEvent):
    """Meta recategorised a template (``UTILITY`` -> ``MARKETING``...): its price and the
    per-user marketing cap may now apply."""

    EVENT_TYPE = "inbound.template.category_changed"

    previous_category: MetaName | None = None
    category: MetaName


class TemplateComponentsChanged(_TemplateEvent):
    """A template's texts or buttons were edited (and approved again)."""

    EVENT_TYPE = "inbound.template.components_changed"

    header_text: Text | None = None
    body_text: Text | None = None
    footer_text: Text | None = None
    button_texts: tuple[Annotated[str, Field(max_length=256)], ...] = ()


class MessagingLimitChanged(Event):
    """How many unique customers an account may reach outside the customer-service
    window in a moving 24 hours; ``limit`` None is unlimited."""

    EVENT_TYPE = "inbound.account.messaging_limit_changed"

    channel: Channel
    #: ``business`` (a business portfolio: the limit its numbers share, Meta's rule
    #: since October 2025) or ``phone_number`` (older per-number tiers).
    scope: Literal["business", "phone_number"]
    #: The business portfolio id or the phone_number_id.
    account_id: SubjectToken
    #: Meta's tier name (``TIER_2K``, ``TIER_UNLIMITED``...), when it sent one.
    tier: MetaName | None = None
    limit: Annotated[int, Field(ge=0)] | None = None
    #: Meta's event (``UPGRADE``, ``DOWNGRADE``, ``FLAGGED``, ``UNFLAGGED``...).
    quality_event: MetaName | None = None
    changed_at: AwareDatetime


class MarketingPreferenceChanged(Event):
    """A customer stopped (or resumed) marketing messages from this business."""

    EVENT_TYPE = "inbound.contact.marketing_preference_changed"

    channel: Channel
    channel_account_id: ProviderId
    contact: InboundContact
    contact_key: ContactKey
    preference: Literal["stop", "resume"]
    #: Meta's category (``marketing_messages``).
    category: Annotated[str, Field(min_length=1, max_length=64)]
    detail: Text | None = None
    changed_at: AwareDatetime
