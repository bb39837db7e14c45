"""The Meta fake's campaign endpoints are described in the sandbox's OpenAPI."""

import httpx
import pytest

from cauce_devstack.sandbox.app import create_app

NEW_OPERATIONS = {
    ("get", "/graph/{version}/{waba_id}/message_templates"): "whatsapp-graph",
    ("post", "/sandbox/meta/templates/{name}/{language}"): "sandbox",
    ("get", "/sandbox/meta/messaging-limit"): "sandbox",
    ("post", "/sandbox/meta/messaging-limit"): "sandbox",
    ("delete", "/sandbox/meta/messaging-limit"): "sandbox",
    ("post", "/sandbox/customer/preferences"): "sandbox",
}


# The Odoo fake's catch-all route repeats an operation id (its own matter, not Meta's).
@pytest.mark.filterwarnings("ignore:Duplicate Operation ID")
async def test_each_new_endpoint_has_a_summary_a_description_and_its_tag() -> None:
    transport = httpx.ASGITransport(app=create_app())
    async with httpx.AsyncClient(transport=transport, base_url="http://sandbox") as client:
        spec = (await client.get("/openapi.json")).json()
    for (method, path), tag in NEW_OPERATIONS.items():
        operation = spec["paths"][path][method]
        assert operation["summary"], (method, path)
        assert len(operation["description"]) > 40, (method, path)
        assert operation["tags"] == [tag], (method, path)
    graph_tag = next(t for t in spec["tags"] if t["name"] == "whatsapp-graph")
    assert "132015" in graph_tag["description"] and "message_templates" in graph_tag["description"]
