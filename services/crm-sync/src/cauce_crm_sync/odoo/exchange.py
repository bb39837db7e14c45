"""One HTTP request to Odoo, whatever the API style: wait for the rate limiter's slot,
send, read the answer, and account for it (span, ``cauce.crm.odoo.requests``, provider
errors, credentials failing, one log line per failure).

Neither request bodies nor answers are logged or put on spans: they hold phone numbers
and emails. Logs carry the model, the method, the failure's code and Odoo's message
(clipped; it may quote a value).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any, Literal, TypeVar

import httpx
from opentelemetry.trace import SpanKind, Status, StatusCode

from cauce_crm_sync.metrics import ODOO_REQUESTS
from cauce_crm_sync.odoo.api import Throttle
from cauce_crm_sync.odoo.classify import error_code, from_transport
from cauce_crm_sync.odoo.errors import OdooCredentialsRejected, OdooError, OdooRejected
from cauce_runtime import get_tracer
from cauce_runtime.telemetry.metrics import PROVIDER_CREDENTIALS_FAILING, PROVIDER_ERRORS

logger = logging.getLogger("cauce_crm_sync.odoo")

T = TypeVar("T")


class OdooExchange:
    """Sends requests for one client; owns the ``httpx.AsyncClient`` it is given."""

    def __init__(
        self,
        http: httpx.AsyncClient,
        rpc_system: Literal["jsonrpc", "odoo_json2"],
        throttle: Throttle | None,
    ) -> None:
        self.http = http
        self.rpc_system = rpc_system
        self.throttle = throttle
        self.tracer = get_tracer("cauce_crm_sync")

    async def request(
        self,
        http_method: str,
        url: str,
        *,
        target: str,
        method: str,
        read: Callable[[httpx.Response], T],
        json: Any = None,
        headers: dict[str, str] | None = None,
    ) -> T:
        """Send one request and ``read`` its answer (``read`` raises :class:`OdooError`).

        ``target`` names the model (or ``common``/``web``) and ``method`` the call, for
        the span, the metrics and the logs: ``manychat.contact`` / ``create``.
        """
        if self.throttle is not None:
            await self.throttle()
        with self.tracer.start_as_current_span(
            f"odoo {target}.{method}",
            kind=SpanKind.INTERNAL,
            attributes={"rpc.system": self.rpc_system, "rpc.method": f"{target}.{method}"},
            record_exception=False,
            set_status_on_exception=False,
        ) as span:
            try:
                try:
                    response = await self.http.request(http_method, url, json=json, headers=headers)
                except httpx.RequestError as exc:
                    raise from_transport(exc) from exc
                result = read(response)
            except OdooError as error:
                code = error_code(error)
                span.set_attribute("error.type", code)
                span.set_status(Status(StatusCode.ERROR, code))
                _account_failure(target, method, code, error)
                raise
            ODOO_REQUESTS.add(1, {"method": method, "outcome": "ok"})
            logger.debug("odoo %s.%s ok", target, method)
            return result

    async def aclose(self) -> None:
        await self.http.aclose()


def _account_failure(target: str, method: str, code: str, error: OdooError) -> None:
    PROVIDER_ERRORS.add(1, {"provider": "odoo", "code": code})
    if isinstance(error, OdooCredentialsRejected):
        outcome = "credentials_rejected"
        PROVIDER_CREDENTIALS_FAILING.add(1, {"provider": "odoo"})
        logger.error(
            "Odoo refused crm-sync's credentials on %s.%s (%s: %s): check the Odoo login, "
            "password or API key",
            target,
            method,
            code,
            error.message,
        )
    else:
        outcome = "rejected" if isinstance(error, OdooRejected) else "unavailable"
        logger.warning(
            "odoo %s.%s failed, %s (%s: %s; outcome unknown: %s)",
            target,
            method,
            outcome,
            code,
            error.message,
            error.outcome_unknown,
        )
    ODOO_REQUESTS.add(1, {"method": method, "outcome": outcome})


def given(**kwargs: Any) -> dict[str, Any]:
    """The optional parameters a caller gave (None means "Odoo's default")."""
    return {key: value for key, value in kwargs.items() if value is not None}
