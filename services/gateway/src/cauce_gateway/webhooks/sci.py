"""SCI TOTAL payment status notifications, signed with a per-tenant HMAC secret.

SCI's callback format is not public, so cauce defines it (README, "SCI TOTAL payment
status"): JSON ``{"transactionId", "status", "paymentReference", "amount",
"statusDate"}`` with ``X-SCI-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256 of
"{t}.{raw body}">``; the signature is checked on the raw bytes before anything is parsed,
and the secret that verifies it names the tenant.

SCI's status texts are Spanish or English depending on the gateway behind it; they are
normalised to :class:`~cauce_contracts.payments.TransactionStatus` and the original text
is kept. A notification we cannot read, or with a status we do not know, is authentic
provider data: it goes to ``inbound.unrecognized.sci`` (200), never lost, never retried
forever.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated

from fastapi import APIRouter, Header, Request
from fastapi.responses import Response
from pydantic import AliasChoices, BaseModel, ConfigDict, Field, ValidationError

from cauce_contracts.envelope import stable_event_id
from cauce_contracts.payments import PaymentTransactionStatusChanged, TransactionStatus
from cauce_contracts.registry import subject_of
from cauce_contracts.subjects import Channel
from cauce_gateway.delivery import correlation_id
from cauce_gateway.gateway import GatewayDep
from cauce_gateway.parsing import ParseResult, Publication, UnrecognizedPart
from cauce_gateway.webhooks.responses import accepted

router = APIRouter(tags=["sci"])

#: SCI status texts (upper-cased) and what they mean.
STATUS_TEXTS: dict[str, TransactionStatus] = {
    **dict.fromkeys(
        ("APROBADA", "APROBADO", "APPROVED", "OK", "PAGADA", "PAID"), TransactionStatus.APPROVED
    ),
    **dict.fromkeys(
        ("PENDIENTE", "PENDING", "EN PROCESO", "PROCESSING"), TransactionStatus.PENDING
    ),
    **dict.fromkeys(("RECHAZADA", "RECHAZADO", "REJECTED", "DECLINED"), TransactionStatus.REJECTED),
    **dict.fromkeys(("FALLIDA", "FALLIDO", "FAILED", "ERROR"), TransactionStatus.FAILED),
    **dict.fromkeys(("EXPIRADA", "EXPIRADO", "EXPIRED", "VENCIDA"), TransactionStatus.EXPIRED),
}


class SciStatusNotification(BaseModel):
    model_config = ConfigDict(extra="ignore", str_strip_whitespace=True)

    transaction_id: str = Field(
        validation_alias=AliasChoices("transactionId", "transaction_id"),
        min_length=1,
        max_length=64,
        pattern=r"^[A-Za-z0-9_-]+$",
    )
    status: str = Field(min_length=1, max_length=64)
    payment_reference: str | None = Field(
        default=None, validation_alias=AliasChoices("paymentReference", "payment_reference")
    )
    amount: int | None = Field(default=None, ge=0)
    status_at: datetime | None = Field(
        default=None, validation_alias=AliasChoices("statusDate", "status_at", "fecha")
    )


@router.post(
    "/webhooks/sci",
    summary="Payment transaction status from SCI TOTAL (X-SCI-Signature)",
    responses={401: {"description": "missing, stale or wrong X-SCI-Signature; nothing published"}},
)
async def receive_sci_status(
    request: Request,
    gateway: GatewayDep,
    signature: Annotated[str | None, Header(alias="X-SCI-Signature")] = None,
) -> Response:
    raw = await gateway.read_body(request)
    tenant = gateway.accounts.sci_tenant(
        raw, signature, tolerance_s=gateway.settings.sci_signature_tolerance_s
    )
    publication = _status_publication(raw, tenant, correlation_id(request.headers))
    if publication is None:
        reason = _unreadable_reason(raw)
        part = UnrecognizedPart(Channel.SCI, reason, raw)
        publications = gateway.events_from(
            ParseResult(unrecognized=(part,)), request.headers, tenant=tenant
        )
    else:
        publications = [publication]
    return accepted(await gateway.publish(publications)).response()


def _status_publication(raw: bytes, tenant: str, correlation: str) -> Publication | None:
    try:
        note = SciStatusNotification.model_validate_json(raw)
    except ValidationError:
        return None
    status = STATUS_TEXTS.get(note.status.upper())
    if status is None:
        return None
    msg_id = f"sci:txn:{note.transaction_id}:{status.value}"
    status_at = note.status_at or datetime.now(UTC)
    if status_at.tzinfo is None:
        status_at = status_at.replace(tzinfo=UTC)
    event = PaymentTransactionStatusChanged(
        event_id=stable_event_id(msg_id),
        tenant_id=tenant,
        correlation_id=correlation,
        occurred_at=status_at,
        transaction_id=note.transaction_id,
        status=status,
        provider_status=note.status,
        payment_reference=note.payment_reference,
        amount=note.amount,
        status_at=status_at,
    )
    return Publication(event=event, subject=subject_of(event), msg_id=msg_id)


def _unreadable_reason(raw: bytes) -> str:
    try:
        note = SciStatusNotification.model_validate_json(raw)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"]) or "body"
        return f"unreadable SCI status notification: {where}: {first['msg']}"
    return f"unknown SCI status {note.status!r}"
