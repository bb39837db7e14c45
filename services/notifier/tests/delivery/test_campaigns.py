"""Bulk campaigns end to end: the notifier (API, dispatcher, send path) on real NATS and
PostgreSQL, sending templates to the Graph fake over HTTP."""

from __future__ import annotations

import asyncio
import contextlib
import json
import uuid
from collections import Counter
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest

from cauce_contracts.business_account import (
    MarketingPreferenceChanged,
    MessagingLimitChanged,
    TemplateRef,
    TemplateStatusChanged,
)
from cauce_contracts.identity import Permission
from cauce_contracts.inbound import (
    InboundContact,
    InboundMessageReceived,
    InboundStatusUpdated,
    MessageStatus,
    StatusPricing,
    TextMessage,
)
from cauce_contracts.registry import subject_of
from cauce_contracts.subjects import Channel, contact_key
from cauce_devstack.sandbox.settings import DEV_WABA_ID
from cauce_devstack.servers import NatsServer
from cauce_devstack.testing import sse_events

from .conftest import (
    CONTACT_SECRET,
    MINTER,
    PHONE_NUMBER_ID,
    TENANT,
    Stack,
    graph_account,
    running_stack,
)

#: A campaign operator of the test tenant, and one of another company.
ACME = MINTER.token(TENANT, ttl_s=24 * 3600)
OTHER = MINTER.token("other", ttl_s=24 * 3600)
SEED_CSV = (
    "Recipient-Phone-Number,variable_1,variable_2\n"
    "+573001234567,Juan,Pérez\n"
    "+573001234568,María,García\n"
)


def campaign_settings(rate: float = 80) -> dict[str, Any]:
    return {
        "accounts": [graph_account(rate_per_second=rate, business_account_id=DEV_WABA_ID)],
        "campaign_tick_s": 0.05,
        "template_sync_interval_s": 0,
    }


@contextlib.asynccontextmanager
async def campaign_stack(
    nats_server: NatsServer,
    database_url: str,
    tmp_path: Path,
    rate: float = 80,
    **notifier_overrides: Any,
) -> AsyncIterator[Stack]:
    async with running_stack(
        nats_server, database_url, tmp_path, **campaign_settings(rate), **notifier_overrides
    ) as stack:
        synced = await api(stack, "POST", "/api/v1/templates/sync")
        assert synced.status_code == 200, synced.text
        yield stack


@pytest.fixture
async def stack(nats_server: NatsServer, database_url: str, tmp_path: Path) -> AsyncIterator[Stack]:
    async with campaign_stack(nats_server, database_url, tmp_path) as running:
        yield running


async def api(
    stack: Stack, method: str, path: str, *, token: str = ACME, **kwargs: Any
) -> httpx.Response:
    return await stack.http.request(
        method,
        f"{stack.notifier_url}{path}",
        headers={"Authorization": f"Bearer {token}"},
        **kwargs,
    )


async def new_campaign(stack: Stack, template: str = "pago_confirmado", **fields: Any) -> str:
    body = {"name": "Pagos", "template_name": template, "template_language": "es", **fields}
    created = await api(stack, "POST", "/api/v1/campaigns", json=body)
    assert created.status_code == 201, created.text
    campaign_id: str = created.json()["id"]
    return campaign_id


async def upload(stack: Stack, campaign_id: str, text: str) -> httpx.Response:
    return await api(
        stack,
        "POST",
        f"/api/v1/campaigns/{campaign_id}/upload-recipients",
        files={"file": ("recipients.csv", text.encode(), "text/csv")},
    )


async def stats(stack: Stack, campaign_id: str) -> dict[str, Any]:
    answer = await api(stack, "GET", f"/api/v1/campaigns/{campaign_id}/stats")
    assert answer.status_code == 200, answer.text
    body: dict[str, Any] = answer.json()
    return body


async def until_status(stack: Stack, campaign_id: str, status: str, timeout: float = 30) -> None:
    async def reached() -> bool:
        return (await stats(stack, campaign_id))["status"] == status

    await stack.wait_for(reached, timeout=timeout, what=f"campaign {status}")


def template_sends(outbox: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [e["payload"] for e in outbox if e["payload"].get("type") == "template"]


def csv_of(count: int, start: int = 0) -> str:
    rows = [f"+5730012{i:05d},Cliente {i},${i}.000" for i in range(start, start + count)]
    return "Recipient-Phone-Number,variable_1,variable_2\n" + "\n".join(rows) + "\n"


async def test_the_seeds_csv_is_sent_once_per_recipient_with_its_own_values(stack: Stack) -> None:
    campaign_id = await new_campaign(stack)
    loaded = await upload(stack, campaign_id, SEED_CSV)
    assert loaded.json() == {"accepted": 2, "rejected": 0, "rejections": []}
    started = await api(stack, "POST", f"/api/v1/campaigns/{campaign_id}/start")
    assert started.status_code == 200 and started.json()["status"] == "RUNNING"
    await until_status(stack, campaign_id, "COMPLETED")

    sends = template_sends(await stack.outbox())
    assert sorted(s["to"] for s in sends) == ["+573001234567", "+573001234568"]
    by_phone = {s["to"]: s["template"] for s in sends}
    assert by_phone["+573001234567"] == {
        "name": "pago_confirmado",
        "language": {"code": "es"},
        "components": [
            {
                "type": "body",
                "parameters": [
                    {"type": "text", "text": "Juan"},
                    {"type": "text", "text": "Pérez"},
                ],
            }
        ],
    }
    counts = await stats(stack, campaign_id)
    assert (counts["recipients"], counts["sent"], counts["failed"], counts["pending"]) == (
        2,
        2,
        0,
        0,
    )
    outcomes = await api(stack, "GET", f"/api/v1/campaigns/{campaign_id}/recipients")
    assert [r["outcome"] for r in outcomes.json()["items"]] == ["sent", "sent"]
    assert await in_flight(stack, campaign_id) == 0
    csv_export = await api(stack, "GET", f"/api/v1/campaigns/{campaign_id}/recipients?format=csv")
    lines = csv_export.text.strip().splitlines()
    assert lines[0].startswith("seq,phone,variables,outcome") and len(lines) == 3
    assert "Juan | Pérez" in csv_export.text


async def test_a_messy_csv_is_cleaned_and_its_rejections_downloadable(stack: Stack) -> None:
    campaign_id = await new_campaign(stack)
    messy = (
        "Recipient-Phone-Number,variable_1,variable_2\n"
        "57 300 123 4567,Juan,Pérez\n"
        "3001234568,Ana,=cmd()\n"
        "+573001234567,Juan,otra vez\n"
        "12,Pedro,Paz\n"
        "+573001234569,,Ruiz\n"
    )
    loaded = (await upload(stack, campaign_id, messy)).json()
    assert (loaded["accepted"], loaded["rejected"]) == (2, 3)
    assert [r["reason"] for r in loaded["rejections"]] == [
        "duplicate of line 2",
        "not a valid phone number",
        "variable_1 is empty",
    ]
    rejections = await api(stack, "GET", f"/api/v1/campaigns/{campaign_id}/rejections")
    assert rejections.headers["content-type"].startswith("text/csv")
    assert rejections.text.splitlines()[1].startswith("4,duplicate of line 2,")
    wrong_shape = await upload(
        stack, campaign_id, "Recipient-Phone-Number,variable_1\n+573001234567,x\n"
    )
    assert wrong_shape.status_code == 422
    assert "takes 2 variable(s)" in wrong_shape.json()["detail"]


async def test_states_that_do_not_allow_a_change_answer_409_with_the_reason(stack: Stack) -> None:
    campaign_id = await new_campaign(stack)
    no_recipients = await api(stack, "POST", f"/api/v1/campaigns/{campaign_id}/start")
    assert no_recipients.status_code == 409
    assert "no recipients" in no_recipients.json()["detail"]
    resume = await api(stack, "POST", f"/api/v1/campaigns/{campaign_id}/resume")
    assert resume.status_code == 409 and "DRAFT" in resume.json()["detail"]
    await upload(stack, campaign_id, SEED_CSV)
    await api(stack, "POST", f"/api/v1/campaigns/{campaign_id}/start")
    await until_status(stack, campaign_id, "COMPLETED")
    for action in ("start", "pause", "cancel"):
        refused = await api(stack, "POST", f"/api/v1/campaigns/{campaign_id}/{action}")
        assert refused.status_code == 409, action
    again = await upload(stack, campaign_id, SEED_CSV)
    assert again.status_code == 409 and "only DRAFT or SCHEDULED" in again.json()["detail"]
    unknown = await new_campaign(stack, template="no_existe")
    await upload(stack, unknown, SEED_CSV)  # refused: the template is not known
    started = await api(stack, "POST", f"/api/v1/campaigns/{unknown}/start")
    assert started.status_code == 409


async def test_another_tenant_neither_sees_nor_changes_a_campaign(stack: Stack) -> None:
    campaign_id = await new_campaign(stack)
    await upload(stack, campaign_id, SEED_CSV)
    for method, path in (
        ("GET", f"/api/v1/campaigns/{campaign_id}"),
        ("GET", f"/api/v1/campaigns/{campaign_id}/stats"),
        ("GET", f"/api/v1/campaigns/{campaign_id}/recipients?format=csv"),
        ("POST", f"/api/v1/campaigns/{campaign_id}/start"),
        ("DELETE", f"/api/v1/campaigns/{campaign_id}"),
        ("GET", f"/api/v1/events/campaigns/{campaign_id}/stream"),
    ):
        answer = await api(stack, method, path, token=OTHER)
        assert answer.status_code == 404, (method, path)
    listed = await api(stack, "GET", "/api/v1/campaigns", token=OTHER)
    assert listed.json()["items"] == []
    assert (await api(stack, "GET", "/api/v1/templates", token=OTHER)).json() == []
    no_token = await stack.http.get(f"{stack.notifier_url}/api/v1/campaigns")
    assert no_token.status_code == 401
    assert (await api(stack, "GET", f"/api/v1/campaigns/{campaign_id}")).status_code == 200
    # a supervisor who may watch campaigns but not run them
    watcher = MINTER.token(TENANT, Permission.CAMPAIGNS_READ, Permission.TEMPLATES_READ)
    assert (
        await api(stack, "GET", f"/api/v1/campaigns/{campaign_id}/stats", token=watcher)
    ).status_code == 200
    started = await api(stack, "POST", f"/api/v1/campaigns/{campaign_id}/start", token=watcher)
    assert started.status_code == 403


async def test_pause_holds_within_a_second_and_resume_sends_the_rest_once(
    nats_server: NatsServer, database_url: str, tmp_path: Path
) -> None:
    async with campaign_stack(nats_server, database_url, tmp_path, rate=40) as stack:
        campaign_id = await new_campaign(stack)
        await upload(stack, campaign_id, csv_of(160))
        await api(stack, "POST", f"/api/v1/campaigns/{campaign_id}/start")

        async def some_sent() -> bool:
            return (await stats(stack, campaign_id))["sent"] >= 20

        await stack.wait_for(some_sent, what="the first sends")
        paused = await api(stack, "POST", f"/api/v1/campaigns/{campaign_id}/pause")
        assert paused.json()["status"] == "PAUSED"
        await asyncio.sleep(1.0)
        held = len(template_sends(await stack.outbox()))
        await asyncio.sleep(1.5)
        assert len(template_sends(await stack.outbox())) == held  # nothing after a second
        assert held < 160
        assert await in_flight(stack, campaign_id) == 0  # sent, or given back to the list
        resumed = await api(stack, "POST", f"/api/v1/campaigns/{campaign_id}/resume")
        assert resumed.json()["status"] == "RUNNING"
        await until_status(stack, campaign_id, "COMPLETED", timeout=60)
        sends = Counter(s["to"] for s in template_sends(await stack.outbox()))
        assert len(sends) == 160 and set(sends.values()) == {1}  # each once


async def test_cancel_leaves_the_rest_unsent_and_says_so(
    nats_server: NatsServer, database_url: str, tmp_path: Path
) -> None:
    async with campaign_stack(nats_server, database_url, tmp_path, rate=20) as stack:
        campaign_id = await new_campaign(stack)
        await upload(stack, campaign_id, csv_of(100))
        await api(stack, "POST", f"/api/v1/campaigns/{campaign_id}/start")

        async def some_sent() -> bool:
            return (await stats(stack, campaign_id))["sent"] >= 5

        await stack.wait_for(some_sent, what="the first sends")
        cancelled = await api(stack, "POST", f"/api/v1/campaigns/{campaign_id}/cancel")
        assert cancelled.json()["status"] == "CANCELLED"
        await asyncio.sleep(1.0)
        counts = await stats(stack, campaign_id)
        sent = len(template_sends(await stack.outbox()))
        assert counts["sent"] == sent < 100
        assert counts["cancelled"] + sent == 100  # the rest are cancelled, none in limbo
        rows = await api(
            stack, "GET", f"/api/v1/campaigns/{campaign_id}/recipients?status=cancelled"
        )
        assert rows.json()["items"][0]["outcome"] == "cancelled"


async def test_a_template_paused_by_meta_pauses_the_campaign_with_the_reason(
    nats_server: NatsServer, database_url: str, tmp_path: Path
) -> None:
    async with campaign_stack(nats_server, database_url, tmp_path, rate=10) as stack:
        campaign_id = await new_campaign(stack)
        await upload(stack, campaign_id, csv_of(100))
        await api(stack, "POST", f"/api/v1/campaigns/{campaign_id}/start")
        paused = TemplateStatusChanged(
            tenant_id=TENANT,
            correlation_id="corr-template",
            channel="whatsapp",  # type: ignore[arg-type]
            business_account_id=DEV_WABA_ID,
            template=TemplateRef(name="pago_confirmado", language="es"),
            changed_at=datetime.now(UTC),
            status="PAUSED",
            reason="NONE",
            detail="Your template has been paused due to low quality",
        )
        await stack.bus.publish(paused, subject_of(paused))
        await until_status(stack, campaign_id, "PAUSED", timeout=15)
        campaign = (await api(stack, "GET", f"/api/v1/campaigns/{campaign_id}")).json()
        assert campaign["status_by"] == "platform"
        assert "PAUSED" in campaign["status_reason"] and "low quality" in campaign["status_reason"]
        resumed = await api(stack, "POST", f"/api/v1/campaigns/{campaign_id}/resume")
        assert resumed.status_code == 200  # the operator may resume: the dispatcher pauses it again
        await until_status(stack, campaign_id, "PAUSED", timeout=15)
        templates = (await api(stack, "GET", "/api/v1/templates/pago_confirmado")).json()
        assert templates[0]["status"] == "PAUSED"


async def test_progress_streams_and_resumes_after_the_last_event_id(stack: Stack) -> None:
    campaign_id = await new_campaign(stack)
    await upload(stack, campaign_id, SEED_CSV)
    url = f"{stack.notifier_url}/api/v1/events/campaigns/{campaign_id}/stream"
    headers = {"Authorization": f"Bearer {ACME}"}
    first: list[tuple[str | None, str]] = []
    async with stack.http.stream("GET", url, headers=headers, timeout=20) as stream:
        await api(stack, "POST", f"/api/v1/campaigns/{campaign_id}/start")
        async for event_id, kind, _ in sse_events(stream):
            first.append((event_id, kind))
            if kind == "complete":
                break
    assert first[0] == (None, "snapshot")
    kinds = [kind for _, kind in first]
    assert "start" in kinds and "progress" in kinds and kinds[-1] == "complete"
    ids = [int(i) for i, _ in first if i is not None]
    assert ids == sorted(ids) and len(set(ids)) == len(ids)

    resume_after = str(ids[0])  # the "start" event: everything after it comes again
    again: list[tuple[str | None, str]] = []
    with contextlib.suppress(TimeoutError):
        async with asyncio.timeout(3):
            async with stack.http.stream(
                "GET", url, headers={**headers, "Last-Event-ID": resume_after}, timeout=20
            ) as stream:
                async for event_id, kind, _ in sse_events(stream):
                    again.append((event_id, kind))
                    if kind == "complete":
                        break
    assert [e for e in again if e[0] is not None] == [e for e in first if e[0] is not None][1:]


# --- opt-outs, limits, failures ----------------------------------------------------------


def customer_wrote_event(phone: str, text: str) -> InboundMessageReceived:
    return InboundMessageReceived(
        tenant_id=TENANT,
        correlation_id="corr-optout",
        channel=Channel.WHATSAPP,
        channel_account_id=PHONE_NUMBER_ID,
        provider_message_id=f"wamid.OPT{uuid.uuid4().hex[:10]}",
        contact=InboundContact(address=phone.lstrip("+"), profile_name="Ana"),
        contact_key=contact_key(phone, CONTACT_SECRET),
        sent_at=datetime.now(UTC),
        message=TextMessage(body=text),
    )


async def until_suppressed(stack: Stack, count: int) -> None:
    async def recorded() -> bool:
        async with stack.db() as connection:
            value = await connection.fetchval("SELECT count(*) FROM notifier.suppressions")
        return int(value) >= count

    await stack.wait_for(recorded, what="the opt-outs to be recorded")


async def test_customers_who_opted_out_are_reported_not_sent(stack: Stack) -> None:
    # one by keyword ("¡Baja!" alone: any case, accents, punctuation), one through
    # Meta's user_preferences webhook; "no más preguntas" inside a sentence is no opt-out
    for phone, text in (("+573001200001", "¡Baja!"), ("+573001200003", "no más preguntas")):
        event = customer_wrote_event(phone, text)
        await stack.bus.publish(event, subject_of(event))
    stop = MarketingPreferenceChanged(
        tenant_id=TENANT,
        correlation_id="corr-prefs",
        channel=Channel.WHATSAPP,
        channel_account_id=PHONE_NUMBER_ID,
        contact=InboundContact(address="573001200002"),
        contact_key=contact_key("+573001200002", CONTACT_SECRET),
        preference="stop",
        category="marketing_messages",
        changed_at=datetime.now(UTC),
    )
    await stack.bus.publish(stop, subject_of(stop))
    await until_suppressed(stack, 2)

    campaign_id = await new_campaign(stack, template="bienvenida")  # MARKETING
    loaded = await upload(stack, campaign_id, csv_with_one_variable(4, start=0))
    assert loaded.json()["accepted"] == 4
    await api(stack, "POST", f"/api/v1/campaigns/{campaign_id}/start")
    await until_status(stack, campaign_id, "COMPLETED")
    counts = await stats(stack, campaign_id)
    assert (counts["sent"], counts["suppressed"]) == (2, 2)
    sent_to = sorted(s["to"] for s in template_sends(await stack.outbox()))
    assert sent_to == ["+573001200000", "+573001200003"]
    rows = await api(stack, "GET", f"/api/v1/campaigns/{campaign_id}/recipients?status=suppressed")
    assert {r["note"] for r in rows.json()["items"]} == {"opted out of marketing messages"}

    # a utility campaign is not marketing: the opt-out does not apply
    utility = await new_campaign(stack, template="pago_confirmado")
    await upload(
        stack, utility, "Recipient-Phone-Number,variable_1,variable_2\n+573001200001,A,B\n"
    )
    await api(stack, "POST", f"/api/v1/campaigns/{utility}/start")
    await until_status(stack, utility, "COMPLETED")
    assert (await stats(stack, utility))["sent"] == 1


async def test_the_messaging_limit_holds_the_rest_for_the_window(stack: Stack) -> None:
    limit = MessagingLimitChanged(
        tenant_id=TENANT,
        correlation_id="corr-limit",
        channel=Channel.WHATSAPP,
        scope="business",
        account_id=DEV_WABA_ID,
        tier="TIER_250",
        limit=5,  # a small limit of our own, to see the rest wait
        changed_at=datetime.now(UTC),
    )
    await stack.bus.publish(limit, subject_of(limit))

    async def recorded() -> bool:
        async with stack.db() as connection:
            return bool(await connection.fetchval("SELECT count(*) FROM notifier.messaging_limits"))

    await stack.wait_for(recorded, what="the limit to be recorded")
    campaign_id = await new_campaign(stack)
    await upload(stack, campaign_id, csv_of(8))
    await api(stack, "POST", f"/api/v1/campaigns/{campaign_id}/start")

    async def five_sent() -> bool:
        return (await stats(stack, campaign_id))["sent"] == 5

    await stack.wait_for(five_sent, what="five sends")
    await asyncio.sleep(1.0)
    counts = await stats(stack, campaign_id)
    assert (counts["sent"], counts["pending"], counts["status"]) == (5, 3, "RUNNING")
    assert len(template_sends(await stack.outbox())) == 5  # never over


async def test_a_failure_burst_pauses_and_retry_failed_sends_only_what_is_worth_it(
    nats_server: NatsServer, database_url: str, tmp_path: Path
) -> None:
    overrides = {
        **campaign_settings(rate=4),  # slow enough to see the burst while it happens
        "campaign_failure_window": 4,
        "campaign_failure_threshold": 0.75,
        "max_provider_attempts": 1,  # a 5xx fails the send at once (retryable)
    }
    async with running_stack(nats_server, database_url, tmp_path, **overrides) as stack:
        assert (await api(stack, "POST", "/api/v1/templates/sync")).status_code == 200
        faults = f"{stack.sandbox_url}/sandbox/faults"
        for phone in ("+573001200000", "+573001200001"):  # the first two recipients
            capped = {"kind": "refusal", "code": 131049, "recipient": phone}
            await stack.http.post(faults, json=capped)
        campaign_id = await new_campaign(stack)
        await upload(stack, campaign_id, csv_of(12))
        await api(stack, "POST", f"/api/v1/campaigns/{campaign_id}/start")

        async def capped_twice() -> bool:
            return (await stats(stack, campaign_id))["failed"] >= 2

        await stack.wait_for(capped_twice, what="the two marketing-cap refusals")
        await stack.http.post(faults, json={"kind": "5xx", "count": 100})  # Meta breaks
        await until_status(stack, campaign_id, "PAUSED")
        campaign = (await api(stack, "GET", f"/api/v1/campaigns/{campaign_id}")).json()
        assert campaign["status_by"] == "platform"
        assert "of the last 4 sends failed" in campaign["status_reason"]

        async def settled() -> bool:
            return (await stats(stack, campaign_id))["queued"] == 0

        await stack.wait_for(settled, what="the sends in flight to settle")
        await stack.http.delete(faults)  # the provider is healthy again
        counts = await stats(stack, campaign_id)
        codes = {f["code"]: f["count"] for f in counts["failed_by_code"]}
        assert codes.pop("131049") == 2
        server_errors = sum(codes.values())
        assert server_errors == counts["failed"] - 2 >= 2

        retried = (await api(stack, "POST", f"/api/v1/campaigns/{campaign_id}/retry-failed")).json()
        # the 5xx failures are retried; the 131049s are not, within 24 h of their refusal
        assert retried == {"requeued": server_errors, "left": 2}
        resumed = await api(stack, "POST", f"/api/v1/campaigns/{campaign_id}/resume")
        assert resumed.status_code == 200
        await until_status(stack, campaign_id, "COMPLETED", timeout=30)
        counts = await stats(stack, campaign_id)
        assert (counts["sent"], counts["failed"]) == (10, 2)
        # the 5xx failures were sent again: only the 131049s are failures still
        assert [(f["code"], f["count"]) for f in counts["failed_by_code"]] == [("131049", 2)]
        accepted = Counter(s["to"] for s in template_sends(await stack.outbox()))
        assert len(accepted) == 10 and set(accepted.values()) == {1}
        # failed and sent alike, no send is left counted as in flight (the dispatcher's cap)
        assert await in_flight(stack, campaign_id) == 0


async def in_flight(stack: Stack, campaign_id: str) -> int:
    async with stack.db() as connection:
        count: int = await connection.fetchval(
            "SELECT count(*) FROM notifier.campaign_recipients"
            " WHERE campaign_id = $1 AND in_flight",
            uuid.UUID(campaign_id),
        )
    return count


def csv_with_one_variable(count: int, start: int = 0) -> str:
    rows = [f"+5730012{i:05d},Cliente {i}" for i in range(start, start + count)]
    return "Recipient-Phone-Number,variable_1\n" + "\n".join(rows) + "\n"


async def test_the_cost_is_what_meta_billed_plus_the_rest_at_the_rate_card(stack: Stack) -> None:
    campaign_id = await new_campaign(stack)  # pago_confirmado: UTILITY
    await upload(stack, campaign_id, SEED_CSV + "+14155552671,Bob,Smith\n")
    before = (await stats(stack, campaign_id))["cost"]
    # 3 to send: two Colombian numbers and one US number at the default card's utility price
    assert before == {
        "currency": "USD",
        "billed": 0.0,
        "billed_messages": 0,
        "estimated_total": pytest.approx(3 * 0.0008),
    }
    await api(stack, "POST", f"/api/v1/campaigns/{campaign_id}/start")
    await until_status(stack, campaign_id, "COMPLETED")
    sent = [s for s in (await stack.outcomes(prefix="outbound.message.sent")) if s]
    for index, event in enumerate(sent):
        body = json.loads(event.model_dump_json())
        # Meta bills the first two ("regular"); the third was free (customer service)
        pricing = StatusPricing(
            billable=index < 2,
            pricing_model="PMP",
            category="utility",
            type="regular" if index < 2 else "free_customer_service",
        )
        status = InboundStatusUpdated(
            tenant_id=TENANT,
            correlation_id="corr-pricing",
            channel=Channel.WHATSAPP,
            channel_account_id=PHONE_NUMBER_ID,
            provider_message_id=body["provider_message_id"],
            contact_key=body["contact_key"],
            status=MessageStatus.DELIVERED,
            timestamp=datetime.now(UTC),
            pricing=pricing,
        )
        await stack.bus.publish(status, subject_of(status))

    async def billed() -> bool:
        return (await stats(stack, campaign_id))["cost"]["billed_messages"] == 2

    await stack.wait_for(billed, what="Meta's pricing to be recorded")
    cost = (await stats(stack, campaign_id))["cost"]
    assert cost["billed"] == pytest.approx(2 * 0.0008)
    assert cost["estimated_total"] == cost["billed"]  # nothing left to send
