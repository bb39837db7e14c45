"""The sandbox's control of a WABA's templates: change one as Meta's review and quality
systems would (approve, pause, disable, recategorise, re-rate, edit) and post the
webhook Meta sends for each change to the gateway."""

from __future__ import annotations

import time
from typing import Any

from fastapi import APIRouter, HTTPException
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from cauce_devstack.sandbox.bootstrap import SandboxDep
from cauce_devstack.sandbox.meta import webhooks as mw
from cauce_devstack.sandbox.meta.gateway_webhooks import PostedWebhook, post_account_webhook
from cauce_devstack.sandbox.meta.templates import (
    KnownTemplate,
    MetaName,
    QualityScore,
    TemplateCategory,
)

#: ``event`` values of Meta's ``message_template_status_update``.
STATUS_EVENTS = (
    "APPROVED",
    "ARCHIVED",
    "DELETED",
    "DISABLED",
    "FLAGGED",
    "IN_APPEAL",
    "LIMIT_EXCEEDED",
    "LOCKED",
    "PAUSED",
    "PENDING",
    "PENDING_DELETION",
    "REINSTATED",
    "REJECTED",
    "UNARCHIVED",
    "UNLOCKED",
)
#: Events whose template status is not the event's name (``None``: unchanged).
EVENT_STATUS: dict[str, str | None] = {
    "FLAGGED": None,
    "LOCKED": None,
    "UNLOCKED": None,
    "REINSTATED": "APPROVED",
    "UNARCHIVED": "APPROVED",
}
PAUSE_INFO = ("FIRST_PAUSE", "Your WhatsApp message template has been paused.")
UNPAUSE_INFO = ("UNPAUSE", "Your WhatsApp message template has been unpaused.")


class TemplateChange(BaseModel):
    """What changes; each given aspect posts its own webhook, in this order:
    components, category, quality, status."""

    model_config = ConfigDict(extra="forbid")

    waba_id: str | None = None
    """Defaults to ``CAUCE_SANDBOX_WABA_ID``."""
    status: MetaName | None = Field(
        default=None,
        description="Meta's status event: " + ", ".join(STATUS_EVENTS) + ". The template's "
        "status becomes the event's (REINSTATED and UNARCHIVED: APPROVED; FLAGGED, LOCKED "
        "and UNLOCKED leave it).",
    )
    reason: MetaName | None = None
    """The status webhook's ``reason`` (``NONE`` by default; e.g. ``INVALID_FORMAT``,
    ``INCORRECT_CATEGORY`` for a rejection); also the template's ``rejected_reason``."""
    title: str | None = Field(default=None, max_length=64)
    """``other_info.title`` (a pause defaults to ``FIRST_PAUSE``, an unpause to
    ``UNPAUSE``)."""
    detail: str | None = Field(default=None, max_length=1024)
    """``other_info.description``, or ``rejection_info.reason`` for a rejection."""
    recommendation: str | None = Field(default=None, max_length=1024)
    """``rejection_info.recommendation`` for a rejection."""
    quality: QualityScore | None = None
    category: TemplateCategory | None = None
    components: list[dict[str, Any]] | None = None
    """New components in Meta's shape (an edit): parameter counts follow them."""
    notify: bool = True
    """Off: change the template and build the webhooks without posting them."""

    @field_validator("status", "reason", "quality", "category", mode="before")
    @classmethod
    def _upper(cls, value: object) -> object:
        return value.upper() if isinstance(value, str) else value

    @field_validator("status")
    @classmethod
    def _known_event(cls, value: str | None) -> str | None:
        if value is not None and value not in STATUS_EVENTS:
            raise ValueError(f"status must be one of {', '.join(STATUS_EVENTS)}")
        return value

    @model_validator(mode="after")
    def _something(self) -> TemplateChange:
        if all(v is None for v in (self.status, self.quality, self.category, self.components)):
            raise ValueError("give at least one of status, quality, category, components")
        return self


class TemplateChangeResult(BaseModel):
    template: dict[str, Any]
    """The template after the change, in Meta's shape."""
    webhooks: list[PostedWebhook]


def _status_value(change: TemplateChange, old: KnownTemplate, new: KnownTemplate) -> dict[str, Any]:
    event = change.status or ""
    other_info: tuple[str, str] | None = None
    if change.title is not None or (change.detail is not None and event != "REJECTED"):
        other_info = (change.title or event, change.detail or "")
    elif event == "PAUSED":
        other_info = PAUSE_INFO
    elif old.status == "PAUSED" and new.status == "APPROVED":
        other_info = UNPAUSE_INFO
    rejection_info = None
    if event == "REJECTED" and change.detail is not None:
        rejection_info = (change.detail, change.recommendation or "")
    return mw.template_status_value(
        event,
        new.id,
        new.name,
        new.language,
        category=new.category,
        reason=None if event == "PENDING_DELETION" else change.reason or "NONE",
        disable_date=int(time.time()) if event == "DISABLED" else None,
        other_info=other_info,
        rejection_info=rejection_info,
    )


router = APIRouter(prefix="/sandbox/meta", tags=["sandbox"])


@router.post(
    "/templates/{name}/{language}",
    response_model=TemplateChangeResult,
    summary="Change a template and post Meta's webhook for it",
)
async def change_template(
    name: str, language: str, change: TemplateChange, sandbox: SandboxDep
) -> TemplateChangeResult:
    """Change one template of a WABA as Meta would (its review, its quality rating, a
    recategorisation, an edit) and post the matching signed webhook to
    ``{gateway_url}/webhooks/whatsapp`` (``object: whatsapp_business_account``,
    ``entry[].id`` the WABA, ``entry[].time``): ``message_template_components_update``,
    ``template_category_update``, ``message_template_quality_update``,
    ``message_template_status_update``, one per given aspect, quality, category and
    components only when they change. Each is retried as status webhooks are; the
    answer says what the gateway answered. From then on the Graph fake lists and
    enforces the new state: a paused template is refused with 132015, a disabled one
    with 132016, any other status than approved with 132001. 404: no such template in
    that WABA."""
    settings = sandbox.settings
    store = sandbox.graph_templates
    waba_id = change.waba_id or settings.waba_id
    old = store.find(waba_id, name, language)
    if old is None:
        raise HTTPException(404, f"no template {name} ({language}) in WABA {waba_id}")
    updates: dict[str, Any] = {}
    if change.components is not None and change.components != old.components:
        updates["components"] = change.components
    if change.category is not None and change.category != old.category:
        updates["category"] = change.category
        updates["previous_category"] = old.category
    if change.quality is not None and change.quality != old.quality_score:
        updates["quality_score"] = change.quality
    if change.status is not None:
        status = EVENT_STATUS.get(change.status, change.status)
        if status is not None:
            updates["status"] = status
        if change.status == "REJECTED":
            updates["rejected_reason"] = change.reason or "NONE"
    try:
        new = KnownTemplate.model_validate({**old.model_dump(), **updates})
    except ValidationError as error:
        raise HTTPException(422, error.errors(include_url=False, include_context=False)) from None
    store.replace(waba_id, new)

    ref = (new.id, new.name, new.language)
    values: list[tuple[str, dict[str, Any]]] = []
    if "components" in updates:
        values.append(
            (
                "message_template_components_update",
                mw.template_components_value(*ref, new.components),
            )
        )
    if "category" in updates:
        values.append(
            (
                "template_category_update",
                mw.template_category_value(*ref, new=new.category, previous=old.category),
            )
        )
    if "quality_score" in updates:
        values.append(
            (
                "message_template_quality_update",
                mw.template_quality_value(*ref, new=new.quality_score, previous=old.quality_score),
            )
        )
    if change.status is not None:
        values.append(("message_template_status_update", _status_value(change, old, new)))
    http = sandbox.gateway_client.http
    posted = [
        await post_account_webhook(
            http,
            settings,
            field,
            mw.account_webhook(field, value, waba_id),
            notify=change.notify,
        )
        for field, value in values
    ]
    return TemplateChangeResult(template=new.meta_shape(), webhooks=posted)
