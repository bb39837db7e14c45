"""Tokens in URLs and phone numbers never reach span attributes in clear."""

from __future__ import annotations

from .conftest import (
    CHATTIGO_TOKEN,
    CUSTOMER,
    ODOO_TOKEN,
    VERIFY_TOKEN,
    RunningGateway,
    text_webhook,
)


async def test_spans_name_routes_not_tokens_or_numbers(gateway: RunningGateway) -> None:
    async with gateway.client() as client:
        await client.post(
            f"/webhooks/chattigo/{CHATTIGO_TOKEN}", json=text_webhook(message_id="wamid.SPAN")
        )
        await client.post(
            f"/webhooks/odoo/{ODOO_TOKEN}", json={"_model": "manychat.contact", "_id": 7}
        )
        await client.post(  # the Chattigo integration's URL: the token in the query
            "/api/v1/webhook",
            params={"token": CHATTIGO_TOKEN},
            json=text_webhook(message_id="wamid.SPAN2"),
        )
        await client.get(
            "/webhooks/whatsapp",
            params={
                "hub.mode": "subscribe",
                "hub.verify_token": VERIFY_TOKEN,
                "hub.challenge": "1",
            },
        )
    assert gateway.telemetry.force_flush()
    spans = gateway.settings.span_file.read_text()
    assert "/webhooks/chattigo/{account_token}" in spans
    assert "/webhooks/odoo/{url_token}" in spans
    assert "POST /api/v1/webhook" in spans
    assert "publish inbound.message.received" in spans
    for secret in (CHATTIGO_TOKEN, ODOO_TOKEN, VERIFY_TOKEN, CUSTOMER):
        assert secret not in spans
