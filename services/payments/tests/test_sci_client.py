"""The SCI TOTAL client against the sandbox's fake, over real HTTP: token caching and
one re-login on 401, debt mapping, transactions, and how failures are classified."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import date

import httpx
import pytest
from pydantic import SecretStr

from cauce_contracts.payments import PaymentItem
from cauce_payments.sci_total import (
    SciAuthFailed,
    SciOutcomeUnknown,
    SciRejected,
    SciTotalClient,
    SciUnavailable,
)
from cauce_payments.sci_total.wire import response_errors
from cauce_payments.settings import DEV_SCI_PASSWORD, DEV_SCI_USERNAME

HHO137 = (PaymentItem(declaracion=108818889, vigencia=2025, amount=954688),)


def make_client(
    sandbox_url: str, password: str = DEV_SCI_PASSWORD, timeout_s: float = 3.0
) -> SciTotalClient:
    return SciTotalClient.create(
        f"{sandbox_url}/sci",
        DEV_SCI_USERNAME,
        SecretStr(password),
        "1",
        "127",
        timeout_s=timeout_s,
    )


@pytest.fixture
async def sci(sandbox_url: str) -> AsyncIterator[SciTotalClient]:
    client = make_client(sandbox_url)
    try:
        yield client
    finally:
        await client.aclose()


async def sandbox_post(sandbox_url: str, path: str, **kwargs: object) -> httpx.Response:
    async with httpx.AsyncClient() as http:
        return await http.post(f"{sandbox_url}{path}", **kwargs)  # type: ignore[arg-type]


async def test_debt_of_the_seed_plate_maps_to_the_contract(sci: SciTotalClient) -> None:
    (debt,) = await sci.debts("HHO137")
    assert debt.placa == "HHO137" and debt.declaracion == 108818889 and debt.vigencia == 2025
    assert (debt.avaluo, debt.impto, debt.sancion, debt.interes) == (49116000, 737000, 184000, 0)
    assert (debt.saldo_pagar, debt.total) == (921000, 954688)
    assert debt.fecha_lim == date(2025, 9, 1)
    assert (debt.muni_matr, debt.codi_muni_matr, debt.muni_dest) == (
        "GIRON",
        "307",
        "SABANA DE TORRES",
    )
    assert (debt.valor_muni, debt.valor_depto) == (184200, 736800)
    assert [d.vigencia for d in await sci.debts("ABC123")] == [2023, 2024, 2025]
    assert await sci.debts("XYZ987") == ()


async def test_the_token_is_cached_and_renewed_once_on_401(
    sci: SciTotalClient, sandbox_url: str
) -> None:
    await sci.debts("HHO137")
    await sci.debts("XYZ987")
    assert sci.logins == 1
    await sandbox_post(sandbox_url, "/sandbox/sci/tokens/expire")
    assert len(await sci.debts("HHO137")) == 1
    assert sci.logins == 2
    # A 401 whatever the token (fault): one re-login, one retry, success.
    await sandbox_post(
        sandbox_url, "/sandbox/faults", json={"target": "sci", "kind": "token_expired"}
    )
    assert len(await sci.debts("HHO137")) == 1
    assert sci.logins == 3


async def test_a_401_after_a_fresh_login_is_an_auth_failure(
    sci: SciTotalClient, sandbox_url: str
) -> None:
    await sandbox_post(
        sandbox_url, "/sandbox/faults", json={"target": "sci", "kind": "token_expired", "count": 2}
    )
    with pytest.raises(SciAuthFailed) as raised:
        await sci.debts("HHO137")
    assert raised.value.retryable and sci.logins == 2


async def test_wrong_credentials_fail_the_login(sandbox_url: str) -> None:
    client = make_client(sandbox_url, password="wrong")
    try:
        with pytest.raises(SciAuthFailed) as raised:
            await client.debts("HHO137")
    finally:
        await client.aclose()
    assert raised.value.code == "http_401"


async def test_failures_are_classified(sci: SciTotalClient, sandbox_url: str) -> None:
    with pytest.raises(SciUnavailable) as server_error:
        await sci.debts("ERR500")
    assert server_error.value.code == "http_500" and server_error.value.retryable
    await sandbox_post(
        sandbox_url,
        "/sandbox/faults",
        json={"target": "sci", "kind": "429", "retry_after": 7},
    )
    with pytest.raises(SciUnavailable) as limited:
        await sci.debts("HHO137")
    assert limited.value.code == "http_429" and limited.value.retry_after == 7
    with pytest.raises(SciRejected) as bad_plate:
        await sci.debts("??")
    assert bad_plate.value.code == "http_400" and not bad_plate.value.retryable


async def test_unreachable_sci_is_unavailable() -> None:
    client = make_client("http://127.0.0.1:9")  # discard port: connection refused
    try:
        with pytest.raises(SciUnavailable) as raised:
            await client.create_transaction(
                email="ana@example.com", amount=954688, description="x", items=HHO137
            )
    finally:
        await client.aclose()
    assert not isinstance(raised.value, SciOutcomeUnknown)


async def test_a_timeout_is_unknown_for_a_transaction_but_not_for_a_lookup(
    sandbox_url: str,
) -> None:
    client = make_client(sandbox_url, timeout_s=0.3)
    try:
        await client.debts("XYZ987")  # log in first: the faults hit business calls
        for _ in range(2):
            await sandbox_post(
                sandbox_url,
                "/sandbox/faults",
                json={"target": "sci", "kind": "latency", "latency_ms": 1500},
            )
        with pytest.raises(SciUnavailable) as lookup:
            await client.debts("HHO137")
        assert not isinstance(lookup.value, SciOutcomeUnknown)
        with pytest.raises(SciOutcomeUnknown):
            await client.create_transaction(
                email="ana@example.com", amount=954688, description="x", items=HHO137
            )
    finally:
        await client.aclose()


async def test_transactions_and_business_errors(sci: SciTotalClient, sandbox_url: str) -> None:
    created = await sci.create_transaction(
        email="ana@example.com", amount=954688, description="Impuesto HHO137", items=HHO137
    )
    assert created.transaction_id == "40037"
    assert created.url == f"{sandbox_url}/sci/pay/40037"
    assert created.payment_reference == "127-196629"
    assert created.messages[0] == "SCI: OK"
    await sandbox_post(sandbox_url, "/sci/pay/40037")
    with pytest.raises(SciRejected) as raised:
        await sci.create_transaction(
            email="ana@example.com", amount=954688, description="again", items=HHO137
        )
    assert raised.value.code == "sci_business" and not raised.value.retryable
    assert "ya se encuentra pagada" in raised.value.messages[0]


@pytest.mark.parametrize(
    ("reply", "errors"),
    [
        ({"response": {"errors": 0, "description": ["SCI: OK"]}}, None),
        ({"response": {"errorCount": 0, "errors": []}}, None),
        ({"response": {"errors": 2, "description": ["a", "b"]}}, ("a", "b")),
        ({"response": {"errorCount": 1, "errors": ["no"]}}, ("no",)),
        ({"response": {"errors": ["x"]}}, ("x",)),
        ({"response": {"errorCount": 1}}, ("SCI reported an error without a description",)),
        ({"transactionId": "1"}, None),
        ([], None),
    ],
)
def test_response_errors_accepts_both_shapes(reply: object, errors: tuple[str, ...] | None) -> None:
    assert response_errors(reply) == errors
