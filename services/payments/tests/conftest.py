"""Payments test fixtures: a fresh database per test on the session PostgreSQL, the
provider sandbox served over HTTP, and a real payments service on real NATS."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

from cauce_contracts.envelope import Event
from cauce_contracts.identity import Permission
from cauce_contracts.payments import (
    DebtLookupRequested,
    PaymentItem,
    PaymentLinkRequested,
)
from cauce_contracts.registry import subject_of
from cauce_contracts.subjects import Channel, contact_key
from cauce_devstack.minted_tokens import TokenMinter
from cauce_devstack.sandbox.app import create_app as create_sandbox
from cauce_devstack.sandbox.settings import SandboxSettings
from cauce_devstack.servers import NatsServer, free_port
from cauce_devstack.testing import eventually, service_test_values, serving, stored_events
from cauce_payments.app import create_app as create_payments
from cauce_payments.settings import PaymentsSettings
from cauce_runtime import Bus, ServiceSettings

TENANT = "acme"
#: Signs the operators' access tokens (the service pins its key).
MINTER = TokenMinter()
KEY = contact_key("573001234567", b"contact-key-secret-for-tests")


@contextlib.asynccontextmanager
async def running_sandbox(
    gateway_url: str = "http://127.0.0.1:9", **overrides: Any
) -> AsyncIterator[str]:
    settings = SandboxSettings(port=free_port(), gateway_url=gateway_url, **overrides)
    async with serving(create_sandbox(settings), settings.port) as url:
        yield url


@pytest.fixture
async def sandbox_url() -> AsyncIterator[str]:
    async with running_sandbox() as url:
        yield url


def payments_settings(
    nats_url: str, database_url: str, sandbox_url: str, tmp_path: Path, **overrides: Any
) -> PaymentsSettings:
    values: dict[str, Any] = {
        **service_test_values(nats_url, tmp_path),
        "port": free_port(),
        "postgres_url": database_url,
        "identity_public_keys": MINTER.jwks,
        "sci_base_url": f"{sandbox_url}/sci",
        "sci_timeout_s": 3.0,
        "sci_retry_delay_s": 0.2,
    }
    values.update(overrides)
    return PaymentsSettings(_env_file=None, **values)


def lookup(placa: str, **overrides: Any) -> DebtLookupRequested:
    values: dict[str, Any] = {
        "tenant_id": TENANT,
        "correlation_id": "corr-payments",
        "channel": Channel.WHATSAPP,
        "contact_key": KEY,
        "placa": placa,
    }
    values.update(overrides)
    return DebtLookupRequested(**values)


def link_request(
    request_key: str = "conv1-108818889",
    items: tuple[PaymentItem, ...] = (
        PaymentItem(declaracion=108818889, vigencia=2025, amount=954688),
    ),
    **overrides: Any,
) -> PaymentLinkRequested:
    values: dict[str, Any] = {
        "tenant_id": TENANT,
        "correlation_id": "corr-payments",
        "channel": Channel.WHATSAPP,
        "contact_key": KEY,
        "request_key": request_key,
        "placa": "HHO137",
        "items": items,
        "amount": sum(item.amount for item in items),
        "email": "ana@example.com",
    }
    values.update(overrides)
    return PaymentLinkRequested(**values)


@dataclass
class Stack:
    nats: NatsServer
    sandbox_url: str
    payments_url: str
    database_url: str
    bus: Bus
    http: httpx.AsyncClient

    async def publish(self, event: Event, msg_id: str | None = None) -> None:
        await self.bus.publish(event, subject_of(event), msg_id=msg_id)

    async def events(self, prefix: str) -> list[Any]:
        """Every event on the PAYMENTS stream whose subject starts with ``prefix``."""
        return await stored_events(self.nats.url, "PAYMENTS", prefix)

    async def wait_for(
        self, check: Callable[[], Awaitable[bool]], timeout: float = 20.0, what: str = "it"
    ) -> None:
        await eventually(check, timeout, what)

    async def answers(self, prefix: str, count: int, timeout: float = 20.0) -> list[Any]:
        """Wait until ``count`` events with ``prefix`` exist; return them."""

        async def enough() -> bool:
            return len(await self.events(prefix)) >= count

        await self.wait_for(enough, timeout, f"{count} x {prefix}")
        return await self.events(prefix)

    async def transactions(self) -> list[dict[str, Any]]:
        listed: list[dict[str, Any]] = (
            await self.http.get(f"{self.sandbox_url}/sci/transactions")
        ).json()
        return listed

    async def fault(self, **spec: Any) -> None:
        response = await self.http.post(
            f"{self.sandbox_url}/sandbox/faults", json={"target": "sci", **spec}
        )
        assert response.status_code == 201, response.text

    async def link_row(self, request_key: str) -> dict[str, Any]:
        response = await self.http.get(
            f"{self.payments_url}/links/{TENANT}/{request_key}",
            headers=MINTER.headers(TENANT, Permission.PAYMENTS_READ),
        )
        assert response.status_code == 200, response.text
        row: dict[str, Any] = response.json()
        return row


@contextlib.asynccontextmanager
async def running_stack(
    nats_server: NatsServer, database_url: str, sandbox_url: str, tmp_path: Path, **overrides: Any
) -> AsyncIterator[Stack]:
    settings = payments_settings(nats_server.url, database_url, sandbox_url, tmp_path, **overrides)
    async with serving(create_payments(settings), settings.port) as payments_url:
        publisher = Bus(
            ServiceSettings(environment="test", nats_url=nats_server.url, _env_file=None)
        )
        await publisher.start()
        try:
            async with httpx.AsyncClient(timeout=10) as http:
                yield Stack(nats_server, sandbox_url, payments_url, database_url, publisher, http)
        finally:
            await publisher.stop()


@pytest.fixture
async def stack(
    nats_server: NatsServer, database_url: str, sandbox_url: str, tmp_path: Path
) -> AsyncIterator[Stack]:
    async with running_stack(nats_server, database_url, sandbox_url, tmp_path) as running:
        yield running
