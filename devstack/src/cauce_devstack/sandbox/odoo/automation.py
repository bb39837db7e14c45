"""Odoo's automation rule "Send Webhook Notification" (Odoo 17+), as an operator sets it
up for cauce: on creation and update of the watched models, POST the record to
``CAUCE_SANDBOX_ODOO_WEBHOOK_URL`` with Odoo's body (``_action``, ``_id``, ``_model`` and
the record's fields, ``write_date`` included).

It fires for every write, a person's in the UI (``PATCH /sandbox/odoo/records/...``)
and the API's alike, as Odoo's does: cauce's own writes come back to cauce, which must
recognise them. Posting happens after the write is answered and never fails the write;
a failed post is lost, as Odoo only logs it.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from typing import TYPE_CHECKING, Any

import httpx

from cauce_devstack.sandbox.odoo.records import OdooRecords

if TYPE_CHECKING:
    from cauce_devstack.sandbox.gateway_client import GatewayClient

logger = logging.getLogger(__name__)

ACTION = "Send Webhook Notification(#1)"


class AutomationWebhook:
    def __init__(
        self, url: str, models: list[str], records: OdooRecords, gateway: GatewayClient
    ) -> None:
        self.url = url
        self.models = frozenset(models)
        self.records = records
        self.gateway = gateway
        self._posts: set[asyncio.Task[None]] = set()

    def written(self, model: str, ids: list[int]) -> None:
        """A write of ``ids`` of ``model`` was committed: post each record, soon."""
        if model not in self.models or not ids:
            return
        bodies = [
            {"_action": ACTION, "_id": row["id"], "_model": model, **row}
            for row in self.records.read(model, ids)
        ]
        for body in bodies:
            body.pop("id", None)
            task = asyncio.get_running_loop().create_task(self._post(body))
            self._posts.add(task)
            task.add_done_callback(self._posts.discard)

    async def _post(self, body: dict[str, Any]) -> None:
        try:
            await self.gateway.http.post(self.url, json=body)
        except httpx.HTTPError as error:
            logger.warning("Odoo automation webhook failed: %s", error)

    async def aclose(self) -> None:
        for task in list(self._posts):
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
