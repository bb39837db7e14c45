"""SCI TOTAL's HTTP API: log in, look up a vehicle's debt, create a payment transaction.

- ``POST {base}/Autenticacion`` (form ``Username``, ``Password``) gives a bearer token
  and its lifetime; the token is cached until shortly before it expires and shared by
  every call (one login at a time, however many calls wait for it).
- Any call answered 401 logs in again ONCE and is repeated; a second 401 is
  :class:`SciAuthFailed`.
- Failures are classified (see :mod:`cauce_payments.sci_total.errors`). Creating a
  transaction is not idempotent at SCI, so a failure after the request may have
  reached SCI (read timeout, 504, an unreadable 200) is :class:`SciOutcomeUnknown`
  rather than a plain :class:`SciUnavailable`.

Neither tokens nor plates are logged. Every failure a caller sees is counted on the
runtime's shared ``cauce_provider_errors_total{provider="sci_total", code}`` (and a
refused login on ``cauce_provider_credentials_failing_total``).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any, Final

import httpx
from pydantic import SecretStr, ValidationError

from cauce_contracts.payments import PaymentItem, VehicleDebt
from cauce_payments.sci_total import wire
from cauce_payments.sci_total.errors import (
    SciAuthFailed,
    SciError,
    SciOutcomeUnknown,
    SciRejected,
    SciUnavailable,
)
from cauce_runtime import retry_after_of, traced_http_client, transport_failure
from cauce_runtime.telemetry.metrics import PROVIDER_CREDENTIALS_FAILING, PROVIDER_ERRORS

logger = logging.getLogger(__name__)

#: The ``provider`` label of SCI TOTAL's errors.
PROVIDER: Final = "sci_total"


@contextlib.contextmanager
def _counted_errors() -> Iterator[None]:
    """Count the SCI failure a caller gets, by its code (once per call)."""
    try:
        yield
    except SciError as exc:
        PROVIDER_ERRORS.add(1, {"provider": PROVIDER, "code": exc.code})
        if isinstance(exc, SciAuthFailed):
            PROVIDER_CREDENTIALS_FAILING.add(1, {"provider": PROVIDER})
        raise


#: Lifetime assumed when SCI's login answer does not say.
DEFAULT_TOKEN_TTL_S = 300.0
#: A cached token is renewed this long before it expires (at most 10% of its life).
RENEW_BEFORE_S = 60.0


@dataclass(frozen=True)
class CreatedTransaction:
    """A transaction SCI created: where the customer pays and SCI's ids for it."""

    transaction_id: str
    url: str
    payment_id: str
    sci_payment_id: int
    sci_transaction_id: int
    payment_reference: str
    #: SCI's log lines (``response.description``), for audit.
    messages: tuple[str, ...] = ()


class SciTotalClient:
    """One SCI TOTAL account (credentials, ``idParametro``, ``idCliente``)."""

    def __init__(
        self,
        http: httpx.AsyncClient,
        base_url: str,
        username: str,
        password: SecretStr,
        id_parametro: str,
        id_cliente: str,
        *,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._http = http
        self._base = base_url.rstrip("/")
        self._username = username
        self._password = password
        self.id_parametro = id_parametro
        self.id_cliente = id_cliente
        self._clock = clock
        self._token: str | None = None
        self._renew_at = 0.0
        self._login_lock = asyncio.Lock()
        #: Logins done so far (tests and metrics read it).
        self.logins = 0

    @classmethod
    def create(
        cls,
        base_url: str,
        username: str,
        password: SecretStr,
        id_parametro: str,
        id_cliente: str,
        *,
        timeout_s: float = 15.0,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> SciTotalClient:
        """A client with its own traced HTTP client (closed by :meth:`aclose`)."""
        http = traced_http_client(timeout=timeout_s, transport=transport)
        return cls(http, base_url, username, password, id_parametro, id_cliente)

    async def aclose(self) -> None:
        await self._http.aclose()

    # --- the API -------------------------------------------------------------------

    async def debts(self, placa: str) -> tuple[VehicleDebt, ...]:
        """The vehicle's debt per vigencia; empty when it owes nothing."""
        with _counted_errors():
            return await self._debts(placa)

    async def _debts(self, placa: str) -> tuple[VehicleDebt, ...]:
        reply = await self._call(
            f"/TotalApp/DeudaPlaca/{self.id_parametro}", {"placa": placa}, idempotent=True
        )
        errors = wire.response_errors(reply)
        if errors is not None:
            raise SciRejected("SCI refused the debt lookup", code="sci_business", messages=errors)
        if not isinstance(reply, list):
            raise SciRejected("SCI's debt reply is not a list", code="bad_reply")
        try:
            records = [wire.DebtRecord.model_validate(item) for item in reply]
            return tuple(record.to_contract() for record in records)
        except ValidationError as exc:
            raise SciRejected(
                f"SCI's debt reply has an unexpected record ({exc.error_count()} error(s))",
                code="bad_reply",
            ) from exc

    async def create_transaction(
        self,
        *,
        email: str,
        amount: int,
        description: str,
        items: tuple[PaymentItem, ...],
    ) -> CreatedTransaction:
        """Create the payment transaction (``CrearTransaccion``) for ``items``."""
        with _counted_errors():
            return await self._create_transaction(
                email=email, amount=amount, description=description, items=items
            )

    async def _create_transaction(
        self,
        *,
        email: str,
        amount: int,
        description: str,
        items: tuple[PaymentItem, ...],
    ) -> CreatedTransaction:
        body = wire.transaction_body(
            email=email,
            amount=amount,
            description=description,
            id_parametro=self.id_parametro,
            id_cliente=self.id_cliente,
            items=items,
        )
        reply = await self._call("/TotalApp/CrearTransaccion", body, idempotent=False)
        errors = wire.response_errors(reply)
        if errors is not None:
            raise SciRejected(
                "SCI refused the transaction: " + "; ".join(errors),
                code="sci_business",
                messages=errors,
            )
        try:
            parsed = wire.TransactionReply.model_validate(reply)
        except ValidationError as exc:
            raise SciOutcomeUnknown(
                "SCI answered CrearTransaccion without a readable transaction", code="bad_reply"
            ) from exc
        response = reply.get("response") if isinstance(reply, dict) else None
        description_lines = response.get("description") if isinstance(response, dict) else None
        return CreatedTransaction(
            transaction_id=parsed.transactionId,
            url=parsed.url,
            payment_id=parsed.paymentId,
            sci_payment_id=parsed.sciPaymentId,
            sci_transaction_id=parsed.sciTransactionId,
            payment_reference=parsed.paymentReference,
            messages=tuple(str(line) for line in description_lines)
            if isinstance(description_lines, list)
            else (),
        )

    # --- token ---------------------------------------------------------------------

    async def _current_token(self) -> str:
        if self._token is not None and self._clock() < self._renew_at:
            return self._token
        async with self._login_lock:
            if self._token is not None and self._clock() < self._renew_at:
                return self._token  # another caller logged in while we waited
            return await self._login()

    async def _login(self) -> str:
        try:
            response = await self._http.post(
                f"{self._base}/Autenticacion",
                data={"Username": self._username, "Password": self._password.get_secret_value()},
            )
        except httpx.TransportError as exc:
            raise _transport_error(exc, idempotent=True) from exc
        if response.status_code in (400, 401, 403):
            raise SciAuthFailed(
                f"SCI refused the login ({response.status_code})",
                code=f"http_{response.status_code}",
                messages=_messages(response),
            )
        _raise_for_status(response, idempotent=True)
        try:
            reply = wire.TokenReply.model_validate(response.json())
        except (ValueError, ValidationError) as exc:
            raise SciUnavailable("SCI's login answer has no token", code="bad_reply") from exc
        ttl = reply.expires_in if reply.expires_in is not None else DEFAULT_TOKEN_TTL_S
        self._token = reply.token
        self._renew_at = self._clock() + ttl - min(RENEW_BEFORE_S, ttl * 0.1)
        self.logins += 1
        return reply.token

    def _forget(self, token: str) -> None:
        if self._token == token:
            self._token = None

    # --- calls ---------------------------------------------------------------------

    async def _call(self, path: str, body: dict[str, Any], *, idempotent: bool) -> Any:
        token = await self._current_token()
        response = await self._post(path, body, token, idempotent)
        if response.status_code == 401:
            # Expired or revoked early: log in again, once.
            self._forget(token)
            token = await self._current_token()
            response = await self._post(path, body, token, idempotent)
            if response.status_code == 401:
                self._forget(token)
                raise SciAuthFailed("SCI refused a fresh token", code="http_401")
        _raise_for_status(response, idempotent=idempotent)
        try:
            return response.json()
        except ValueError as exc:
            error = SciUnavailable if idempotent else SciOutcomeUnknown
            raise error("SCI answered with a body that is not JSON", code="bad_reply") from exc

    async def _post(
        self, path: str, body: dict[str, Any], token: str, idempotent: bool
    ) -> httpx.Response:
        try:
            return await self._http.post(
                f"{self._base}{path}", json=body, headers={"Authorization": f"Bearer {token}"}
            )
        except httpx.TransportError as exc:
            raise _transport_error(exc, idempotent=idempotent) from exc


def _transport_error(exc: httpx.RequestError, *, idempotent: bool) -> SciError:
    """Nothing sent: SCI did nothing. Anything after the request may have been sent is
    an unknown outcome, which matters only for a call that is not safe to repeat."""
    sent = SciUnavailable if idempotent else SciOutcomeUnknown
    failure = transport_failure(exc, remote="SCI", not_sent=SciUnavailable, sent=sent)
    assert isinstance(failure, SciError)
    return failure


def _raise_for_status(response: httpx.Response, *, idempotent: bool) -> None:
    status = response.status_code
    if status < 400:
        return
    code = f"http_{status}"
    if status == 429:
        raise SciUnavailable(
            "SCI is rate limiting us",
            code=code,
            http_status=status,
            retry_after=retry_after_of(response.headers),
        )
    if status == 504 and not idempotent:
        raise SciOutcomeUnknown("SCI's gateway timed out (504)", code=code, http_status=status)
    failed = SciUnavailable if status >= 500 else SciRejected
    verb = "failed" if status >= 500 else "refused the request"
    raise failed(
        f"SCI {verb} ({status})", code=code, http_status=status, messages=_messages(response)
    )


def _messages(response: httpx.Response) -> tuple[str, ...]:
    """SCI's error texts from a JSON error body (``message``/``Message``/``errors``)."""
    try:
        body = response.json()
    except ValueError:
        return ()
    if not isinstance(body, dict):
        return ()
    texts: list[str] = []
    for key in ("message", "Message", "error", "detail"):
        if isinstance(body.get(key), str):
            texts.append(body[key])
    errors = body.get("errors")
    if isinstance(errors, list):
        texts += [str(e) for e in errors]
    return tuple(t[:500] for t in texts)
