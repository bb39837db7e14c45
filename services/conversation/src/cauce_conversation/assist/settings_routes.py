"""A company's AI assist settings and usage, for its admins:

- ``GET /api/chats/ai/settings``: the endpoint and model chosen (none: the offline
  default), whether a key is stored (its fingerprint, never the key), whether models
  may read phone numbers and tokens in clear, whether chats are summarised when they
  resolve, and the endpoints the platform allows;
- ``PUT /api/chats/ai/settings``: change them (``company.manage``); ``api_key`` sets
  the key, ``forget_key`` removes it, neither keeps the stored one;
- ``GET /api/chats/ai/usage?days=``: calls, tokens and cost per provider, and the
  latest calls (``reports.read``).

The company is the caller's (from the verified token), never a parameter.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Depends, HTTPException, Query
from pydantic import BaseModel, ConfigDict, Field, SecretStr

from cauce_contracts.identity import Permission
from cauce_conversation.assist.company_settings import CompanyAssist
from cauce_conversation.assist.endpoints import MODEL_NAME, AiEndpoint
from cauce_conversation.assist.usage import UsageSummary
from cauce_conversation.bootstrap import ConversationDep
from cauce_conversation.inbox.unavailable import UNAVAILABLE_RESPONSE, unavailable_as_503
from cauce_runtime.identity import Caller, require

Admin = Annotated[Caller, Depends(require(Permission.COMPANY_MANAGE))]
ReportReader = Annotated[Caller, Depends(require(Permission.REPORTS_READ))]


class EndpointView(BaseModel):
    name: str
    kind: str
    models: list[str]
    key_required: bool


class AssistSettingsView(BaseModel):
    endpoint: str | None
    model: str | None
    allow_unmasked: bool
    after_resolve: bool
    has_key: bool
    key_fingerprint: str | None
    updated_at: datetime | None
    endpoints: list[EndpointView]


class AssistSettingsChange(BaseModel):
    model_config = ConfigDict(extra="forbid")

    #: A name from the platform's endpoints; None: the offline default.
    endpoint: str | None = Field(default=None, max_length=64)
    model: str | None = Field(default=None, pattern=MODEL_NAME)
    api_key: SecretStr | None = Field(default=None, min_length=8, max_length=512)
    forget_key: bool = False
    allow_unmasked: bool = False
    after_resolve: bool = False


router = APIRouter(
    prefix="/api/chats/ai",
    tags=["ai"],
    dependencies=[Depends(unavailable_as_503)],
    responses=UNAVAILABLE_RESPONSE,
)


def _view(
    settings: CompanyAssist, has_key: bool, endpoints: dict[str, AiEndpoint]
) -> AssistSettingsView:
    return AssistSettingsView(
        endpoint=settings.endpoint,
        model=settings.model,
        allow_unmasked=settings.allow_unmasked,
        after_resolve=settings.after_resolve,
        has_key=has_key,
        key_fingerprint=settings.key_fingerprint,
        updated_at=settings.updated_at,
        endpoints=[
            EndpointView(
                name=name,
                kind=endpoint.kind,
                models=list(endpoint.models),
                key_required=endpoint.key_required,
            )
            for name, endpoint in sorted(endpoints.items())
        ],
    )


@router.get("/settings", response_model=AssistSettingsView)
async def read_settings(service: ConversationDep, caller: Admin) -> AssistSettingsView:
    assistants = service.assist.assistants
    settings, key = await assistants.store.read(caller.company_id)
    return _view(settings, key is not None, assistants.endpoints)


@router.put("/settings", response_model=AssistSettingsView)
async def change_settings(
    service: ConversationDep, caller: Admin, change: AssistSettingsChange
) -> AssistSettingsView:
    assistants = service.assist.assistants
    _, stored_key = await assistants.store.read(caller.company_id)
    key = None if change.forget_key else change.api_key or stored_key
    if change.endpoint is not None:
        endpoint = assistants.endpoints.get(change.endpoint)
        if endpoint is None:
            known = ", ".join(sorted(assistants.endpoints)) or "none"
            raise HTTPException(422, f"unknown endpoint {change.endpoint!r} (known: {known})")
        if not change.model:
            raise HTTPException(422, "choose a model for the endpoint")
        if endpoint.kind == "gemini" and ("/" in change.model or ".." in change.model):
            raise HTTPException(422, "a Gemini model name has no '/'")
        if endpoint.key_required and key is None:
            raise HTTPException(422, f"the endpoint {change.endpoint!r} needs an API key")
    settings = CompanyAssist(
        endpoint=change.endpoint,
        model=change.model if change.endpoint else None,
        allow_unmasked=change.allow_unmasked,
        after_resolve=change.after_resolve,
    )
    saved = await assistants.store.save(
        caller.company_id, settings, key, by=caller.user_id or caller.subject
    )
    return _view(saved, key is not None, assistants.endpoints)


@router.get("/usage", response_model=UsageSummary)
async def read_usage(
    service: ConversationDep,
    caller: ReportReader,
    days: Annotated[int, Query(ge=1, le=92)] = 30,
) -> UsageSummary:
    return await service.assist.usage.summary(caller.company_id, days)
