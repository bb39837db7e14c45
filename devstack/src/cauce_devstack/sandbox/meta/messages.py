"""The Graph fake's messages endpoint: sends and mark-as-read, refused in the order and
with the errors Meta uses, so a client's handling of each refusal is exercised."""

from __future__ import annotations

import asyncio
import base64
import json
import random
import secrets
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from fastapi import APIRouter, Request, Response
from fastapi.responses import JSONResponse

from cauce_devstack.sandbox.bootstrap import Sandbox, SandboxDep
from cauce_devstack.sandbox.faults import AFTER_ACCEPT, Fault
from cauce_devstack.sandbox.meta.access_tokens import authorise, bearer_of
from cauce_devstack.sandbox.meta.accounts import business_of, waba_of
from cauce_devstack.sandbox.meta.errors import (
    CODE_MARKETING_OPT_OUT,
    GraphError,
    expired_token,
    invalid_parameter,
    outside_service_window,
    rate_limited,
    recipient_refusal,
    server_error,
)
from cauce_devstack.sandbox.meta.message_schema import OutboundMessage, parse_request
from cauce_devstack.sandbox.meta.pricing import price
from cauce_devstack.sandbox.meta.status_callbacks import AcceptedMessage
from cauce_devstack.sandbox.meta.templates import check_template
from cauce_devstack.sandbox.throughput import ThroughputLimiter, retry_after_header

if TYPE_CHECKING:
    from cauce_devstack.sandbox.settings import SandboxSettings

router = APIRouter(prefix="/graph", tags=["whatsapp-graph"])


def new_wamid() -> str:
    """A message id shaped like Meta's (``wamid.`` + base64)."""
    return "wamid." + base64.b64encode(secrets.token_bytes(30)).decode()


async def _apply_fault(fault: Fault, settings: SandboxSettings) -> None:
    """Sleep for latency faults; raise the error a failing fault stands for (faults on
    the answer act after the send is taken: :func:`_answer_after`)."""
    if fault.kind in AFTER_ACCEPT:
        return
    if fault.kind == "latency":
        await asyncio.sleep(fault.latency_ms / 1000)
    elif fault.kind == "429":
        raise rate_limited(fault.retry_after)
    elif fault.kind == "5xx":
        raise server_error(fault.status)
    elif fault.kind == "token_expired":
        raise expired_token()
    elif fault.kind == "drop":
        await asyncio.sleep(settings.drop_hold_s)
        raise GraphError(504, 2, "dropped")


async def _answer_after(fault: Fault | None, settings: SandboxSettings) -> Response | None:
    """For a send already taken: wait out a ``slow_answer``; for ``answer_lost``, hang
    like a dropped request and answer an empty 504 instead of the success."""
    if fault is None or fault.kind not in AFTER_ACCEPT:
        return None
    if fault.kind == "slow_answer":
        await asyncio.sleep(fault.latency_ms / 1000)
        return None
    await asyncio.sleep(settings.drop_hold_s)
    return Response(status_code=504)


def _read_json(raw: bytes) -> Any:
    try:
        return json.loads(raw)
    except ValueError:
        raise invalid_parameter("The request body is not valid JSON.") from None


async def _base_latency(settings: SandboxSettings) -> None:
    delay_ms = settings.graph_latency_ms
    if settings.graph_latency_jitter_ms > 0:
        delay_ms += random.uniform(0, settings.graph_latency_jitter_ms)  # noqa: S311 - not crypto
    if delay_ms > 0:
        await asyncio.sleep(delay_ms / 1000)


@dataclass(frozen=True)
class _Checked:
    """What Meta's rules found out about a send they let through."""

    category: str
    """The pricing category: the template's, or ``service`` for a free-form message."""
    window_open: bool


def _check_rules(sandbox: Sandbox, phone_number_id: str, message: OutboundMessage) -> _Checked:
    """Meta's template and service-window rules for a valid payload, or raise."""
    settings = sandbox.settings
    category = "service"
    window_open = sandbox.service_windows.is_open(phone_number_id, message.wa_id)
    if message.template is not None:
        if settings.graph_template_check:
            template = message.template
            known = check_template(
                sandbox.graph_templates.templates(waba_of(settings, phone_number_id)),
                template.name,
                template.language.code,
                template.components,
            )
            category = known.pricing_category
        else:
            category = "utility"
    elif settings.service_window_enforced and not window_open:
        raise outside_service_window()
    return _Checked(category, window_open)


def _admit(limiter: ThroughputLimiter, phone_number_id: str) -> None:
    """The number's throughput (the last check: only a send Meta takes counts)."""
    wait_s = limiter.admit(phone_number_id)
    if wait_s is not None:
        raise rate_limited(retry_after_header(wait_s))


@router.post("/{version}/{phone_number_id}/messages", summary="Send a message or mark one read")
async def send_message(
    version: str, phone_number_id: str, request: Request, sandbox: SandboxDep
) -> Response:
    """Checked in Meta's order: the base latency (``CAUCE_SANDBOX_GRAPH_LATENCY_MS``) and
    armed faults; the bearer token (401, code 190); whether it may act for this
    phone_number_id (400, code 100, subcode 33); the payload (400, code 100 or 131009);
    the template of the number's WABA (132001 unknown or not approved, 132015 paused,
    132016 disabled, 132000 a header, body or URL-button parameter count); the 24 h
    customer-service window for non-template messages (131047); an armed ``refusal``
    fault for this customer (131049, 131056...: ``/sandbox/faults``); the number's
    throughput (429, code 130429 with ``Retry-After``).

    Payload limits follow Meta's reference: reply buttons at most 3, titles up to 20
    characters; lists: button label 20, up to 10 sections and 10 rows in total, row
    title 24, description 72; CTA URL display text 20; text body 4096; captions 1024. A
    missing, unknown or mistyped field is ``(#100) Invalid parameter``; a well-formed
    value breaking a limit (too long, too many buttons or rows, duplicate ids, out of
    range) is ``(#131009) Parameter value is not valid``; ``error_data.details`` names
    the field. Templates (``CAUCE_SANDBOX_GRAPH_TEMPLATES``, listed by
    ``GET /graph/{version}/{waba_id}/message_templates``) must exist in the requested
    language, be approved, and get exactly their parameters per component (one per URL
    button with a variable suffix, as a ``button`` component with ``sub_type: url``).
    Each number may send ``CAUCE_SANDBOX_GRAPH_RATE_LIMIT_PER_SECOND`` messages in any
    sliding 1 s window (Meta: 80/s by default, up to 1,000/s on upgraded numbers). A
    template to a customer outside their service window counts against the business
    portfolio's messaging limit (``CAUCE_SANDBOX_MESSAGING_LIMIT``); beyond it the send
    is still accepted, as on Meta, and recorded (``GET /sandbox/meta/messaging-limit``).

    An accepted request is recorded in the outbox and answered with Meta's success
    shape. The fake then posts ``sent``, ``delivered`` and ``read`` (unless
    ``CAUCE_SANDBOX_STATUS_READ_ENABLED`` is off), or one ``failed`` for
    ``CAUCE_SANDBOX_STATUS_FAILING_RECIPIENTS`` and, with 131050, for a marketing
    template to a customer who stopped marketing messages
    (``/sandbox/customer/preferences``), to ``{gateway_url}/webhooks/whatsapp``, each
    after its delay counted from the previous one, signed with
    ``X-Hub-Signature-256`` over the exact bytes; ``sent`` and ``delivered`` carry
    ``conversation`` and per-message ``pricing`` (``type``: ``regular`` for a charged
    template, ``free_customer_service`` for a free-form reply or a utility template in
    the 24 h window, ``free_entry_point`` after an ad or call-to-action entry point). A
    body with ``"status": "read"`` marks an inbound message as read instead.
    """
    return await answer_send(
        sandbox,
        version,
        phone_number_id,
        authorization=request.headers.get("authorization"),
        raw=await request.body(),
    )


async def answer_send(
    sandbox: Sandbox, version: str, phone_number_id: str, *, authorization: str | None, raw: bytes
) -> Response:
    """The answer to a send (or mark-as-read) request, as :func:`send_message` says; the
    served sandbox calls it without the web framework too
    (:class:`~cauce_devstack.sandbox.meta.send_fast_path.GraphSendFastPath`)."""
    settings = sandbox.settings
    try:
        await _base_latency(settings)
        fault = sandbox.faults.take("graph", phone_number_id)
        if fault is not None:
            await _apply_fault(fault, settings)
        authorise(settings, bearer_of(authorization), phone_number_id)
        body = _read_json(raw)
        parsed = parse_request(body)
        checked: _Checked | None = None
        if isinstance(parsed, OutboundMessage):
            checked = _check_rules(sandbox, phone_number_id, parsed)
            refusal = sandbox.faults.take("graph", phone_number_id, recipient=parsed.wa_id)
            if refusal is not None and refusal.code is not None:
                raise recipient_refusal(refusal.code)
            _admit(sandbox.graph_throughput, phone_number_id)
    except GraphError as error:
        if error.status == 504:
            return Response(status_code=504)
        return error.response()

    outbox = sandbox.outbox
    payload: dict[str, Any] = body  # recorded exactly as the client sent it
    if not isinstance(parsed, OutboundMessage):
        outbox.record(
            kind="read",
            api_version=version,
            phone_number_id=phone_number_id,
            type="read",
            message_id=parsed.message_id,
            payload=payload,
        )
        return JSONResponse({"success": True})

    assert checked is not None  # every send went through the rules
    wamid = new_wamid()
    outbox.record(
        kind="message",
        api_version=version,
        phone_number_id=phone_number_id,
        to=parsed.to,
        type=parsed.type,
        message_id=wamid,
        payload=payload,
    )
    opted_out = checked.category == "marketing" and sandbox.marketing_preferences.stopped(
        phone_number_id, parsed.wa_id
    )
    if parsed.template is not None and not checked.window_open and not opted_out:
        # Business-initiated: counts against the portfolio's messaging limit.
        sandbox.messaging_limits.record(
            business_of(settings, waba_of(settings, phone_number_id)),
            phone_number_id,
            parsed.wa_id,
            parsed.template.name,
        )
    priced = price(
        checked.category,
        template=parsed.template is not None,
        window_open=checked.window_open,
        entry_point=sandbox.service_windows.free_entry_point(phone_number_id, parsed.wa_id),
    )
    sandbox.status_callbacks.schedule(
        AcceptedMessage(
            phone_number_id=phone_number_id,
            wamid=wamid,
            recipient=parsed.wa_id,
            category=priced.category,
            biz_opaque_callback_data=parsed.biz_opaque_callback_data,
            billable=priced.billable,
            pricing_type=priced.type,
            failure_code=CODE_MARKETING_OPT_OUT if opted_out else None,
        )
    )
    message: dict[str, str] = {"id": wamid}
    if parsed.type == "template":
        message["message_status"] = "accepted"
    lost = await _answer_after(fault, settings)
    if lost is not None:
        return lost
    return JSONResponse(
        {
            "messaging_product": "whatsapp",
            "contacts": [{"input": parsed.to, "wa_id": parsed.wa_id}],
            "messages": [message],
        }
    )
