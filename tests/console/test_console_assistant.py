"""The AI assist page against ``make run``'s stack, whose model APIs are the sandbox's
fakes: an admin picks Gemini with a key (never shown back), the chat's summary then
comes from that model with its tokens and cost, and the usage table counts it; an
agent's role may not see the page's settings. The company goes back to the offline
default afterwards (the browser test expects it)."""

from __future__ import annotations

import httpx

from cauce_devstack.sandbox.settings import DEV_GEMINI_API_KEY

from .conftest import ConsoleStack
from .test_console_over_http import HTMX, eventually, signed_in


def test_an_admin_picks_a_model_and_sees_what_it_cost(console_stack: ConsoleStack) -> None:
    admin = signed_in(console_stack)
    page = admin.get("/assistant")
    assert page.status_code == 200
    assert 'value="gemini"' in page.text and 'value="local"' in page.text
    try:
        chosen = admin.post(
            "/assistant",
            data={"endpoint": "gemini", "model": "gemini-2.5-flash", "api_key": DEV_GEMINI_API_KEY},
            headers=HTMX,
        )
        assert chosen.status_code == 200 and "Guardado" in chosen.text
        assert DEV_GEMINI_API_KEY not in chosen.text and "Hay una clave guardada" in chosen.text

        console_stack.customer_writes(
            "Hola, necesito el paz y salvo de la placa XYZ987", "573001110301"
        )

        def listed() -> str | None:
            text = admin.get("/inbox/list?view=all").text
            return text if "0301" in text else None

        listing = eventually(listed, what="the chat in the list")
        (item,) = [li for li in listing.split("<li") if "0301" in li]
        chat_id = item.split('data-chat="')[1].split('"')[0]
        made = admin.post(f"/inbox/chats/{chat_id}/assist/summary", headers=HTMX)
        assert made.status_code == 200 and "gemini-2.5-flash" in made.text
        assert "US$" in made.text and "XYZ987" in made.text  # the fake quotes the customer

        usage = admin.get("/assistant").text
        assert "gemini-2.5-flash" in usage and "Sin llamadas" not in usage

        keyless = admin.post(
            "/assistant",
            data={"endpoint": "openai", "model": "gpt-4o-mini", "forget_key": "true"},
            headers=HTMX,
        )
        assert keyless.status_code == 422 and "needs an API key" in keyless.text
    finally:
        back = admin.post("/assistant", data={"forget_key": "true"}, headers=HTMX)
        assert back.status_code == 200, back.text

    agent = signed_in(console_stack, "agent")
    assert "no permite" in agent.get("/assistant").text
    refused = agent.post("/assistant", data={"after_resolve": "true"}, headers=HTMX)
    assert refused.status_code == 422
    prompts = httpx.get(
        console_stack.url("sandbox", "/sandbox/outbox"), params={"provider": "gemini"}, timeout=10
    ).json()
    assert prompts and "573001110301" not in str(prompts)  # masked by default
