"""The payments service end to end: real NATS, real PostgreSQL, the SCI fake over HTTP."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

import asyncpg
import httpx

from cauce_contracts.identity import Permission
from cauce_contracts.payments import (
    DebtLookedUp,
    DebtLookupFailed,
    PaymentItem,
    PaymentLinkCreated,
    PaymentLinkFailed,
    PaymentTransactionStatusChanged,
    TransactionStatus,
)
from cauce_devstack.servers import NatsServer
from cauce_payments.consumers import REQUESTS

from .conftest import MINTER, TENANT, Stack, link_request, lookup, running_stack

LOOKED_UP = "payments.debt.looked_up"
LOOKUP_FAILED = "payments.debt.lookup_failed"
CREATED = "payments.link.created"
FAILED = "payments.link.failed"


async def lookup_row(database_url: str, request_id: uuid.UUID) -> asyncpg.Record:
    connection = await asyncpg.connect(database_url)
    try:
        return await connection.fetchrow(
            "SELECT * FROM payments.debt_lookups WHERE request_id = $1", request_id
        )
    finally:
        await connection.close()


async def test_lookup_of_the_seed_plate(stack: Stack) -> None:
    request = lookup("HHO137")
    await stack.publish(request)
    (answer,) = await stack.answers(LOOKED_UP, 1)
    assert isinstance(answer, DebtLookedUp)
    assert answer.request_id == request.event_id
    assert answer.causation_id == str(request.event_id)
    assert answer.correlation_id == request.correlation_id
    assert (answer.tenant_id, answer.contact_key, answer.placa) == (
        TENANT,
        request.contact_key,
        "HHO137",
    )
    (debt,) = answer.debts
    assert (debt.declaracion, debt.vigencia, debt.total) == (108818889, 2025, 954688)
    assert (debt.impto, debt.sancion, debt.interes, debt.saldo_pagar) == (737000, 184000, 0, 921000)
    row = await lookup_row(stack.database_url, request.event_id)
    assert (row["outcome"], row["debt_count"], row["total"]) == ("found", 1, 954688)


async def test_several_vigencias_and_none(stack: Stack) -> None:
    several, none = lookup("ABC123"), lookup("XYZ987")
    await stack.publish(several)
    await stack.publish(none)
    answers = {a.request_id: a for a in await stack.answers(LOOKED_UP, 2)}
    assert [d.vigencia for d in answers[several.event_id].debts] == [2023, 2024, 2025]
    assert answers[none.event_id].debts == ()
    row = await lookup_row(stack.database_url, none.event_id)
    assert row["outcome"] == "none"


async def test_a_failing_plate_says_it_retries_then_fails_for_good(stack: Stack) -> None:
    request = lookup("ERR500")
    await stack.publish(request)
    first, final = await stack.answers(LOOKUP_FAILED, 2)
    assert isinstance(first, DebtLookupFailed) and isinstance(final, DebtLookupFailed)
    assert (first.retryable, first.will_retry) == (True, True)
    assert (final.retryable, final.will_retry) == (True, False)
    assert first.request_id == final.request_id == request.event_id
    assert await stack.events(LOOKED_UP) == []
    row = await lookup_row(stack.database_url, request.event_id)
    assert row["outcome"] == "failed"
    assert row["attempts"] == REQUESTS.max_deliver
    assert await stack.events("dlq.") == []


async def test_link_is_created_once_however_often_it_is_asked(stack: Stack) -> None:
    request = link_request()
    await stack.publish(request)
    (created,) = await stack.answers(CREATED, 1)
    assert isinstance(created, PaymentLinkCreated)
    assert created.url == f"{stack.sandbox_url}/sci/pay/{created.transaction_id}"
    assert created.request_id == request.event_id and created.amount == 954688
    assert created.payment_reference == "127-196629"
    # The same request redelivered (JetStream dedupe bypassed with a new msg id), and a
    # new request with the same key: the same link, still one transaction at SCI.
    await stack.publish(request, msg_id=f"redelivered-{uuid.uuid4()}")
    again = link_request(event_id=uuid.uuid4())
    await stack.publish(again)
    answers = await stack.answers(CREATED, 2)
    assert {a.transaction_id for a in answers} == {created.transaction_id}
    assert {a.url for a in answers} == {created.url}
    assert answers[-1].request_id == again.event_id
    assert len(await stack.transactions()) == 1
    row = await stack.link_row(request.request_key)
    assert (row["state"], row["sci_calls"], row["transaction_status"]) == ("created", 1, "pending")


async def test_sci_down_then_up_creates_one_transaction_and_says_so_first(stack: Stack) -> None:
    await stack.fault(kind="5xx", status=503, count=2)
    request = link_request()
    await stack.publish(request)
    (created,) = await stack.answers(CREATED, 1)
    (waiting,) = await stack.events(FAILED)
    assert isinstance(waiting, PaymentLinkFailed)
    assert (waiting.retryable, waiting.will_retry, waiting.provider_code) == (
        True,
        True,
        "http_503",
    )
    assert waiting.request_id == created.request_id == request.event_id
    assert len(await stack.transactions()) == 1
    row = await stack.link_row(request.request_key)
    assert (row["state"], row["sci_calls"]) == ("created", 3)


async def test_a_business_error_is_a_final_failure(stack: Stack) -> None:
    first = link_request("conv1-a")
    await stack.publish(first)
    (created,) = await stack.answers(CREATED, 1)
    paid = await stack.http.post(f"{stack.sandbox_url}/sci/pay/{created.transaction_id}")
    assert paid.status_code == 200
    # Another conversation asks to pay the same (now paid) declaración.
    second = link_request("conv2-a")
    await stack.publish(second)
    (failed,) = await stack.answers(FAILED, 1)
    assert isinstance(failed, PaymentLinkFailed)
    assert (failed.retryable, failed.will_retry, failed.provider_code) == (
        False,
        False,
        "sci_business",
    )
    assert "ya se encuentra pagada" in failed.reason
    assert failed.request_id == second.event_id
    assert len(await stack.transactions()) == 1
    row = await stack.link_row("conv2-a")
    assert (row["state"], row["retryable"]) == ("failed", False)


async def test_a_key_reused_for_other_items_is_refused(stack: Stack) -> None:
    await stack.publish(link_request("conv1-b"))
    await stack.answers(CREATED, 1)
    other = link_request(
        "conv1-b", items=(PaymentItem(declaracion=1, vigencia=2024, amount=1000),), placa="ABC123"
    )
    await stack.publish(other)
    (failed,) = await stack.answers(FAILED, 1)
    assert failed.provider_code == "request_key_conflict" and not failed.retryable
    assert len(await stack.transactions()) == 1


async def test_an_unanswered_transaction_is_never_created_twice(
    nats_server: NatsServer, database_url: str, sandbox_url: str, tmp_path: Path
) -> None:
    async with running_stack(
        nats_server, database_url, sandbox_url, tmp_path, sci_timeout_s=0.5
    ) as stack:
        await stack.publish(lookup("XYZ987"))  # logs in before the fault
        await stack.answers(LOOKED_UP, 1)
        await stack.fault(kind="latency", latency_ms=1500)
        request = link_request()
        await stack.publish(request)
        (failed,) = await stack.answers(FAILED, 1)
        assert (failed.provider_code, failed.retryable, failed.will_retry) == (
            "outcome_unknown",
            False,
            False,
        )
        # Asked again: the same answer, SCI is not called again.
        await stack.publish(link_request(event_id=uuid.uuid4()))
        await stack.answers(FAILED, 2)
        row = await stack.link_row(request.request_key)
        assert (row["state"], row["sci_calls"]) == ("uncertain", 1)
        # The fake did create it (it only answered late): an operator would find it.
        await stack.wait_for(lambda: _count(stack, 1), what="the late transaction")
        # Releasing lets the key be asked again (here SCI refuses nothing).
        released = await stack.http.post(
            f"{stack.payments_url}/links/{TENANT}/{request.request_key}/release",
            headers=MINTER.headers(TENANT, Permission.PAYMENTS_MANAGE),
        )
        assert released.status_code == 200 and released.json()["state"] == "failed"


async def _count(stack: Stack, n: int) -> bool:
    return len(await stack.transactions()) == n


async def test_transaction_status_updates_the_link(stack: Stack) -> None:
    request = link_request()
    await stack.publish(request)
    (created,) = await stack.answers(CREATED, 1)
    now = datetime.now(UTC)

    def status(value: TransactionStatus, at: datetime) -> PaymentTransactionStatusChanged:
        return PaymentTransactionStatusChanged(
            tenant_id=TENANT,
            correlation_id="corr-status",
            transaction_id=created.transaction_id,
            status=value,
            provider_status=value.value.upper(),
            payment_reference=created.payment_reference,
            amount=created.amount,
            status_at=at,
        )

    await stack.publish(status(TransactionStatus.APPROVED, now))

    async def approved() -> bool:
        return bool((await stack.link_row(request.request_key))["transaction_status"] == "approved")

    await stack.wait_for(approved, what="approved")
    # A late pending (and a duplicate approval, and a stranger's transaction) change nothing.
    await stack.publish(status(TransactionStatus.PENDING, now + timedelta(seconds=5)))
    await stack.publish(status(TransactionStatus.APPROVED, now))
    stranger = status(TransactionStatus.APPROVED, now).model_copy(
        update={"transaction_id": "999999", "event_id": uuid.uuid4()}
    )
    await stack.publish(stranger)
    marker = lookup("XYZ987")  # handled after the statuses (same consumer, in order)
    await stack.publish(marker)
    await stack.answers(LOOKED_UP, 1)
    row = await stack.link_row(request.request_key)
    assert row["transaction_status"] == "approved" and row["provider_status"] == "APPROVED"


async def test_operator_api_needs_a_token(stack: Stack) -> None:
    response = await stack.http.get(f"{stack.payments_url}/links/{TENANT}/nothing")
    assert response.status_code == 401
    missing = await stack.http.get(
        f"{stack.payments_url}/links/{TENANT}/nothing",
        headers=MINTER.headers(TENANT, Permission.PAYMENTS_READ),
    )
    assert missing.status_code == 404


async def test_another_company_never_reaches_a_link(stack: Stack) -> None:
    request = link_request()
    await stack.publish(request)
    await stack.answers(CREATED, 1)
    path = f"{stack.payments_url}/links/{TENANT}/{request.request_key}"
    other = MINTER.headers("globex")  # every permission, of another company
    read = await stack.http.get(path, headers=other)
    release = await stack.http.post(f"{path}/release", headers=other)
    assert (read.status_code, release.status_code) == (404, 404)
    agent = MINTER.headers(TENANT, Permission.PAYMENTS_READ)
    assert (await stack.http.post(f"{path}/release", headers=agent)).status_code == 403
    platform = MINTER.headers("globex", Permission.PAYMENTS_READ, platform_admin=True)
    assert (await stack.http.get(path, headers=platform)).status_code == 200


async def test_readiness_includes_postgres(stack: Stack) -> None:
    async with httpx.AsyncClient() as http:
        ready = await http.get(f"{stack.payments_url}/readyz")
    assert ready.status_code == 200, ready.text
    assert "postgres" in ready.text
