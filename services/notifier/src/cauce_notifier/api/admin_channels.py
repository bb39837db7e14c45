"""``/admin/channels``: operators create, list, rotate, test and delete channel accounts.

Credentials go in and never come out: responses show which credential fields are set,
the non-secret ones (Chattigo's username and bot name), a keyed fingerprint to tell two
credentials apart, the key id they are encrypted with, and whether they are failing.
Every route requires ``channels.manage``; a caller reaches its own company's accounts
only (the company comes from its access token; another company's account is a 404).
"""

from __future__ import annotations

import hashlib
import secrets
import uuid
from datetime import datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Body, Depends, Response
from fastapi.exceptions import RequestValidationError
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from cauce_contracts.envelope import TOKEN_PATTERN
from cauce_contracts.identity import Permission
from cauce_contracts.subjects import Channel
from cauce_notifier.accounts_model import (
    CREDENTIALS_MODELS,
    ChattigoCredentials,
    Credentials,
    WhatsAppCredentials,
    YCloudCredentials,
)
from cauce_notifier.bootstrap import Notifier, NotifierDep
from cauce_notifier.credentials_check import TestResult
from cauce_notifier.store.accounts import AccountInfo, AccountStore, DuplicateAccount
from cauce_runtime import problem_response
from cauce_runtime.identity import Caller, company_for, require
from cauce_runtime.telemetry.metrics import PROVIDER_CREDENTIALS_FAILING

RatePerSecond = Annotated[float, Field(gt=0, le=10_000)]


#: A WhatsApp Business Account id (digits).
BusinessAccountId = Annotated[str, Field(pattern=r"^[0-9]{1,32}$")]


class _NewChannel(BaseModel):
    model_config = ConfigDict(extra="forbid")

    #: The caller's company when left out; another company only for a platform admin.
    tenant_id: Annotated[str, Field(min_length=1, max_length=64, pattern=TOKEN_PATTERN)] | None = (
        None
    )
    account_id: Annotated[str, Field(min_length=1, max_length=256)]
    display_name: Annotated[str, Field(min_length=1, max_length=256)] | None = None
    rate_per_second: RatePerSecond = 80.0


class NewWhatsAppChannel(_NewChannel):
    channel: Literal[Channel.WHATSAPP]
    credentials: WhatsAppCredentials
    #: The number's WhatsApp Business Account, where its message templates live.
    business_account_id: BusinessAccountId | None = None


class NewChattigoChannel(_NewChannel):
    channel: Literal[Channel.CHATTIGO]
    credentials: ChattigoCredentials


class NewYCloudChannel(_NewChannel):
    channel: Literal[Channel.YCLOUD]
    credentials: YCloudCredentials


NewChannel = Annotated[
    NewWhatsAppChannel | NewChattigoChannel | NewYCloudChannel, Field(discriminator="channel")
]


class ChannelChanges(BaseModel):
    """PATCH body; a ``display_name`` of null clears it, an absent field keeps it."""

    model_config = ConfigDict(extra="forbid")

    display_name: Annotated[str, Field(min_length=1, max_length=256)] | None = None
    rate_per_second: RatePerSecond | None = None
    business_account_id: BusinessAccountId | None = None


class CredentialsView(BaseModel):
    status: Literal["ok", "failing"]
    error: str | None
    failed_at: datetime | None
    fields_set: list[str]
    #: Keyed digest (HMAC): equal for equal credentials, reveals nothing about them.
    fingerprint: str
    key_id: str
    #: Non-secret credential fields (Chattigo ``username`` and ``bot_name``).
    public: dict[str, Any]


class ChannelView(BaseModel):
    id: uuid.UUID
    tenant_id: str
    channel: Channel
    account_id: str
    display_name: str | None
    rate_per_second: float
    business_account_id: str | None
    credentials: CredentialsView
    created_at: datetime
    updated_at: datetime

    @classmethod
    def of(cls, info: AccountInfo) -> ChannelView:
        summary = dict(info.credentials_summary)
        fields_set = summary.pop("fields_set", [])
        return cls(
            id=info.id,
            tenant_id=info.tenant_id,
            channel=info.channel,
            account_id=info.account_id,
            display_name=info.display_name,
            rate_per_second=info.rate_per_second,
            business_account_id=info.business_account_id,
            credentials=CredentialsView(
                status=info.credentials_status,
                error=info.credentials_error,
                failed_at=info.credentials_failed_at,
                fields_set=fields_set,
                fingerprint=info.credentials_fingerprint,
                key_id=info.credentials_key_id,
                public=summary,
            ),
            created_at=info.created_at,
            updated_at=info.updated_at,
        )


class CreatedChannel(ChannelView):
    #: Chattigo: the path of the account's webhook URL (``/webhooks/chattigo/<token>`` on
    #: the gateway), to give Chattigo. Shown this once: only the token's hash is kept.
    webhook_path: str | None = None


class ChannelList(BaseModel):
    items: list[ChannelView]


def _not_found() -> Response:
    return problem_response(404, detail="no such channel account")


async def _view(store: AccountStore, account_id: uuid.UUID) -> ChannelView | None:
    info = await store.info(account_id)
    return None if info is None else ChannelView.of(info)


#: A caller holding ``channels.manage``; its company comes from its access token.
Manager = Annotated[Caller, Depends(require(Permission.CHANNELS_MANAGE))]

router = APIRouter(prefix="/admin/channels", tags=["admin"])


async def _owned(notifier: Notifier, caller: Caller, account_id: uuid.UUID) -> bool:
    """True when the account exists and belongs to the caller's company (any company
    for a platform admin): another company's account is as missing as a deleted one."""
    info = await notifier.accounts.info(account_id)
    return info is not None and caller.sees(info.tenant_id)


@router.post("", status_code=201, response_model=CreatedChannel)
async def create_channel(
    notifier: NotifierDep, caller: Manager, body: Annotated[NewChannel, Body()]
) -> CreatedChannel | Response:
    """Add an account; the gateway routes its webhooks to the company at once (through
    JetStream KV, no restart). A Chattigo account gets its webhook URL's token here."""
    store = notifier.accounts
    url_token = secrets.token_urlsafe(32) if body.channel is Channel.CHATTIGO else None
    try:
        account = await store.create(
            tenant_id=company_for(caller, body.tenant_id),
            channel=body.channel,
            account_id=body.account_id,
            credentials=body.credentials,
            display_name=body.display_name,
            rate_per_second=body.rate_per_second,
            business_account_id=getattr(body, "business_account_id", None),
            webhook_token_sha256=hashlib.sha256(url_token.encode()).hexdigest()
            if url_token
            else None,
        )
    except DuplicateAccount:
        return problem_response(
            409, detail=f"a {body.channel.value} account with this account_id exists"
        )
    notifier.channel_routes.changed()
    view = await _view(store, account.id)
    if view is None:
        return _not_found()
    path = f"/webhooks/chattigo/{url_token}" if url_token else None
    return CreatedChannel(**view.model_dump(), webhook_path=path)


@router.get("", response_model=ChannelList)
async def list_channels(
    notifier: NotifierDep, caller: Manager, tenant_id: str | None = None
) -> ChannelList:
    infos = await notifier.accounts.list_info(company_for(caller, tenant_id))
    return ChannelList(items=[ChannelView.of(info) for info in infos])


@router.get("/{account_id}", response_model=ChannelView)
async def get_channel(
    notifier: NotifierDep, caller: Manager, account_id: uuid.UUID
) -> ChannelView | Response:
    if not await _owned(notifier, caller, account_id):
        return _not_found()
    return await _view(notifier.accounts, account_id) or _not_found()


@router.put("/{account_id}/credentials", response_model=ChannelView)
async def rotate_credentials(
    notifier: NotifierDep,
    caller: Manager,
    account_id: uuid.UUID,
    body: Annotated[dict[str, Any], Body()],
) -> ChannelView | Response:
    store = notifier.accounts
    info = await store.info(account_id)
    if info is None or not await _owned(notifier, caller, account_id):
        return _not_found()
    try:
        credentials: Credentials = CREDENTIALS_MODELS[info.channel].model_validate(body)  # type: ignore[assignment]
    except ValidationError as exc:
        raise RequestValidationError(
            [{**err, "loc": ("body", *err["loc"])} for err in exc.errors()]
        ) from None
    if await store.rotate_credentials(account_id, credentials) is None:
        return _not_found()
    return await _view(store, account_id) or _not_found()


@router.patch("/{account_id}", response_model=ChannelView)
async def change_channel(
    notifier: NotifierDep, caller: Manager, account_id: uuid.UUID, body: ChannelChanges
) -> ChannelView | Response:
    if not await _owned(notifier, caller, account_id):
        return _not_found()
    clear = "display_name" in body.model_fields_set and body.display_name is None
    info = await notifier.accounts.update(
        account_id,
        display_name=body.display_name,
        clear_display_name=clear,
        rate_per_second=body.rate_per_second,
        business_account_id=body.business_account_id,
    )
    notifier.channel_routes.changed()
    return _not_found() if info is None else ChannelView.of(info)


@router.delete("/{account_id}", status_code=204)
async def delete_channel(notifier: NotifierDep, caller: Manager, account_id: uuid.UUID) -> Response:
    if not await _owned(notifier, caller, account_id) or not await notifier.accounts.delete(
        account_id
    ):
        return _not_found()
    notifier.channel_routes.changed()
    return Response(status_code=204)


@router.post("/{account_id}/test", response_model=TestResult)
async def test_channel(
    notifier: NotifierDep, caller: Manager, account_id: uuid.UUID
) -> TestResult | Response:
    """Check the credentials against the provider; the account's status follows."""
    store, tester = notifier.accounts, notifier.credentials_tester
    if not await _owned(notifier, caller, account_id):
        return _not_found()
    if tester is None:
        return problem_response(501, detail="credentials testing is not configured")
    account = await store.get(account_id)
    if account is None:
        return _not_found()
    result = await tester(account)
    if result.ok:
        await store.mark_ok(account_id)
    else:
        await store.mark_credentials_failing(account_id, result.detail or "test failed")
        PROVIDER_CREDENTIALS_FAILING.add(1, {"provider": account.channel.value})
    return result
