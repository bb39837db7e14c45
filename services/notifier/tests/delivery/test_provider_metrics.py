"""Provider errors, refused credentials and send-slot waits reach the notifier's
/metrics under the runtime's shared names, once the event has happened."""

from __future__ import annotations

from pathlib import Path

from prometheus_client.parser import text_string_to_metric_families

from cauce_contracts.outbound import OutboundMessageFailed, TemplateContent, TextContent
from cauce_devstack.servers import NatsServer

from .conftest import Stack, graph_account, running_stack


def sample(text: str, metric: str, **labels: str) -> float:
    """The ``metric`` sample whose labels include ``labels``; 0 when there is none yet
    (the counters are process-wide, so tests compare before and after)."""
    for family in text_string_to_metric_families(text):
        for found in family.samples:
            if found.name == metric and labels.items() <= found.labels.items():
                return float(found.value)
    return 0.0


async def scrape(stack: Stack) -> str:
    return (await stack.http.get(f"{stack.notifier_url}/metrics")).text


async def test_a_provider_error_and_the_slot_wait_are_counted(stack: Stack) -> None:
    before = await scrape(stack)
    await stack.customer_wrote()
    await stack.request(TemplateContent(name="no_such_template", language="es"))
    await stack.request(TextContent(body="hola"))

    async def failed_and_sent() -> bool:
        outcomes = await stack.outcomes()
        return len(outcomes) >= 2 and any(isinstance(e, OutboundMessageFailed) for e in outcomes)

    await stack.wait_for(failed_and_sent, what="one failed and one sent message")
    after = await scrape(stack)
    errors = {"provider": "whatsapp", "code": "132001"}
    assert (
        sample(after, "cauce_provider_errors_total", **errors)
        - sample(before, "cauce_provider_errors_total", **errors)
        == 1
    )
    waits = {"limiter": "notifier.send.whatsapp"}
    metric = "cauce_rate_limit_wait_duration_seconds_count"
    # one slot reserved per provider call: the failed template and the text
    assert sample(after, metric, **waits) - sample(before, metric, **waits) == 2


async def test_refused_credentials_are_counted(
    nats_server: NatsServer, database_url: str, tmp_path: Path
) -> None:
    wrong = graph_account(token="an-expired-token")
    async with running_stack(nats_server, database_url, tmp_path, accounts=[wrong]) as stack:
        before = await scrape(stack)
        await stack.customer_wrote()
        await stack.request(TextContent(body="espera"))

        async def counted() -> bool:
            now = await scrape(stack)
            metric = "cauce_provider_credentials_failing_total"
            return sample(now, metric, provider="whatsapp") > sample(
                before, metric, provider="whatsapp"
            )

        await stack.wait_for(counted, what="the credentials counter")
        after = await scrape(stack)
        code = {"provider": "whatsapp", "code": "190"}
        assert sample(after, "cauce_provider_errors_total", **code) > sample(
            before, "cauce_provider_errors_total", **code
        )
