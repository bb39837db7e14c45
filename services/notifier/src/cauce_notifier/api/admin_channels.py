"""``/admin/channels``: operators create, list, rotate, test and delete channel accounts.

Credentials go in and never come out: responses show which credential fields are set,
the non-secret ones (Chattigo's username and bot name), a keyed fingerprint to tell two
credentials apart, the key id they are encrypted with, and whether they are failing.
Every route requires the bearer admin token
(:func:`~cauce_notifier.api.auth.require_admin_token`).
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Body, Depends, Response
from fastapi.exceptions import RequestValidationError
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from cauce_contracts.envelope import TOKEN_PATTERN
from cauce_contracts.subjects import Channel
from cauce_notifier.accounts_model import (
    CREDENTIALS_MODELS,
    ChattigoCredentials,
    Credentials,
    WhatsAppCredentials,
    YCloudCredentials,
)
from cauce_notifier.api.auth import require_admin_token
from cauce_notifier.bootstrap import NotifierDep
from cauce_notifier.credentials_check import TestResult
from cauce_notifier.store.accounts import AccountInfo, AccountStore, DuplicateAccount
from cauce_runtime import problem_response
from cauce_runtime.telemetry.metrics import PROVIDER_CREDENTIALS_FAILING

RatePerSecond = Annotated[float, Field(gt=0, le=10_000)]


#: A WhatsApp Business Account id (digits).
BusinessAccountId = Annotated[str, Field(pattern=r"^[0-9]{1,32}$")]


class _NewChannel(BaseModel):
    model_config = ConfigDict(extra="forbid")

    tenant_id: Annotated[str, Field(min_length=1, max_length=64, pattern=TOKEN_PATTERN)]
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


class ChannelList(BaseModel):
    items: list[ChannelView]


def _not_found() -> Response:
    return problem_response(404, detail="no such channel account")


async def _view(store: AccountStore, account_id: uuid.UUID) -> ChannelView | None:
    info = await store.info(account_id)
    return None if info is None else ChannelView.of(info)


router = APIRouter(
    prefix="/admin/channels", tags=["admin"], dependencies=[Depends(require_admin_token)]
)


@router.post("", status_code=201, response_model=ChannelView)
async def create_channel(
    notifier: NotifierDep, body: Annotated[NewChannel, Body()]
) -> ChannelView | Response:
    store = notifier.accounts
    try:
        account = await store.create(
            tenant_id=body.tenant_id,
            channel=body.channel,
            account_id=body.account_id,
            credentials=body.credentials,
            display_name=body.display_name,
            rate_per_second=body.rate_per_second,
            business_account_id=getattr(body, "business_account_id", None),
        )
    except DuplicateAccount:
        return problem_response(
            409, detail=f"a {body.channel.value} account with this account_id exists"
        )
    return await _view(store, account.id) or _not_found()


@router.get("", response_model=ChannelList)
async def list_channels(notifier: NotifierDep, tenant_id: str | None = None) -> ChannelList:
    infos = await notifier.accounts.list_info(tenant_id)
    return ChannelList(items=[ChannelView.of(info) for info in infos])


@router.get("/{account_id}", response_model=ChannelView)
async def get_channel(notifier: NotifierDep, account_id: uuid.UUID) -> ChannelView | Response:
    return await _view(notifier.accounts, account_id) or _not_found()


@router.put("/{account_id}/credentials", response_model=ChannelView)
async def rotate_credentials(
    notifier: NotifierDep, account_id: uuid.UUID, body: Annotated[dict[str, Any], Body()]
) -> ChannelView | Response:
    store = notifier.accounts
    info = await store.info(account_id)
    if info is None:
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
    notifier: NotifierDep, account_id: uuid.UUID, body: ChannelChanges
) -> ChannelView | Response:
    clear = "display_name" in body.model_fields_set and body.display_name is None
    info = await notifier.accounts.update(
        account_id,
        display_name=body.display_name,
        clear_display_name=clear,
        rate_per_second=body.rate_per_second,
        business_account_id=body.business_account_id,
    )
    return _not_found() if info is None else ChannelView.of(info)


@router.delete("/{account_id}", status_code=204)
async def delete_channel(notifier: NotifierDep, account_id: uuid.UUID) -> Response:
    if not await notifier.accounts.delete(account_id):
        return _not_found()
    return Response(status_code=204)


@router.post("/{account_id}/test", response_model=TestResult)
async def test_channel(notifier: NotifierDep, account_id: uuid.UUID) -> TestResult | Response:
    """Check the credentials against the provider; the account's status follows."""
    store, tester = notifier.accounts, notifier.credentials_tester
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
