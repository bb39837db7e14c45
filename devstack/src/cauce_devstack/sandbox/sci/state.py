"""The SCI TOTAL fake's memory for one sandbox app: the tokens it issued and the
transactions it created, with ids that never repeat across restarts of ``make run``."""

from __future__ import annotations

import asyncio
import itertools
import secrets
import time
from typing import TYPE_CHECKING

from cauce_devstack.sandbox.sci.models import Transaction, TransactionRequest

if TYPE_CHECKING:
    from cauce_devstack.sandbox.gateway_client import GatewayClient
    from cauce_devstack.sandbox.settings import SandboxSettings


class SciState:
    """Tokens and transactions of one sandbox app, and the webhook client."""

    def __init__(self, settings: SandboxSettings, gateway: GatewayClient) -> None:
        self.settings = settings
        self.gateway = gateway
        #: token -> expiry (unix time)
        self.tokens: dict[str, float] = {}
        self.transactions: dict[str, Transaction] = {}
        self._first_id = settings.sci_first_transaction_id
        self._ids = itertools.count(self._first_id)
        self.lock = asyncio.Lock()

    def issue(self) -> tuple[str, int]:
        token = secrets.token_urlsafe(32)
        ttl = self.settings.sci_token_ttl_s
        self.tokens[token] = time.time() + ttl
        return token, int(ttl)

    def valid(self, token: str | None) -> bool:
        expiry = self.tokens.get(token or "")
        return expiry is not None and expiry > time.time()

    def expire_all(self) -> int:
        now = time.time()
        live = [token for token, expiry in self.tokens.items() if expiry > now]
        for token in live:
            self.tokens[token] = now
        return len(live)

    def paid_declarations(self) -> set[str]:
        return {
            line["referencia"]
            for tx in self.transactions.values()
            if tx.status == "APROBADA"
            for line in tx.lines
        }

    def create(self, body: TransactionRequest, base_url: str) -> Transaction:
        n = next(self._ids)
        offset = n - self._first_id
        transaction_id = str(n)
        tx = Transaction(
            transaction_id=transaction_id,
            payment_id=transaction_id,
            sci_payment_id=5562812 + offset,
            sci_transaction_id=20566 + offset,
            payment_reference=f"{body.idCliente}-{196629 + offset}",
            url=f"{base_url}/sci/pay/{transaction_id}",
            amount=body.valorTotal,
            email=body.email,
            description=body.descripcionPago,
            lines=[line.model_dump() for line in body.dispersion],
        )
        self.transactions[transaction_id] = tx
        return tx
