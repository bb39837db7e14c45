"""Dead letters replayed once their cause is fixed, against a real nats-server: the
consumer that gave up handles the original, with its trace; the letter leaves DLQ; a
second replay of the same letter is stored once; a cut original is refused."""

from __future__ import annotations

import asyncio
import io
import json
from collections.abc import AsyncIterator

import pytest

from cauce_contracts.streams import DLQ
from cauce_devstack.testing import eventually
from cauce_runtime import Bus, ConsumerSpec, Delivery, PermanentError, ServiceSettings, consumer
from cauce_runtime.bus import dead_letters as tool
from cauce_runtime.bus.provision import connect_with_retry

from .conftest import TEST_STREAM, Ping, ping


class Handler:
    """Refuses every ping while ``broken``; records what it handled."""

    def __init__(self) -> None:
        self.broken = True
        self.handled: list[tuple[Ping, Delivery]] = []
        self.attempts = 0

    async def __call__(self, event: Ping, delivery: Delivery) -> None:
        self.attempts += 1
        if self.broken:
            raise PermanentError(f"no rule for {event.text!r}")
        self.handled.append((event, delivery))


SPEC = ConsumerSpec(
    durable_name="rt_replay",
    stream=TEST_STREAM.name,
    filter_subjects=("rttest.>",),
    description="runtime test consumer",
    max_deliver=3,
)


@pytest.fixture
async def service(settings: ServiceSettings) -> AsyncIterator[tuple[Bus, Handler]]:
    handler = Handler()
    bus = Bus(settings, streams=(TEST_STREAM, DLQ))
    consumer(bus, SPEC, Ping, fetch_timeout=0.2)(handler)
    await bus.start()
    try:
        yield bus, handler
    finally:
        await bus.stop()


def cli(settings: ServiceSettings, *argv: str) -> tuple[int, str]:
    out = io.StringIO()
    args = tool.parser().parse_args(["--wait", "2", *argv])
    return asyncio.run(tool.run(args, settings, out)), out.getvalue()


async def test_a_dead_letter_replayed_after_the_fix_is_handled_once(
    service: tuple[Bus, Handler], settings: ServiceSettings
) -> None:
    bus, handler = service
    event = ping("placa AB123")
    await bus.publish(event, "rttest.ping.acme", headers={"X-Origin": "webhook"})
    nc = await connect_with_retry(settings, 2.0)
    try:

        async def kept() -> list[tool.StoredDeadLetter]:
            return await tool.dead_letters(nc, consumer=SPEC.durable_name)

        [stored] = await eventually(kept, 10.0, "the dead letter")
        assert stored.letter.reason == "no rule for 'placa AB123'"
        assert "placa AB123" in tool.describe(stored)

        handler.broken = False  # the fix
        await tool.replay(nc, stored)

        await eventually(lambda: _handled(handler), 10.0, "the replay to be handled")
        [(replayed, delivery)] = handler.handled
        assert replayed == event  # the original bytes: same event_id, same content
        assert delivery.headers["X-Origin"] == "webhook"
        assert delivery.headers["Nats-Msg-Id"] == f"replay:{stored.sequence}"
        assert await tool.dead_letters(nc) == []  # what DLQ holds still needs someone

        # the same letter replayed again (kept elsewhere) is stored once
        await tool.replay(nc, stored, keep=True)
        await asyncio.sleep(0.5)
        assert len(handler.handled) == 1
    finally:
        await nc.close()


async def _handled(handler: Handler) -> bool:
    return bool(handler.handled)


async def test_the_command_lists_shows_and_replays(
    service: tuple[Bus, Handler], settings: ServiceSettings
) -> None:
    bus, handler = service
    for text in ("uno", "dos"):
        await bus.publish(ping(text), "rttest.ping.acme")
    nc = await connect_with_retry(settings, 2.0)
    try:

        async def both() -> bool:
            return len(await tool.dead_letters(nc)) == 2

        await eventually(both, 10.0, "two dead letters")
    finally:
        await nc.close()

    code, listing = await asyncio.to_thread(cli, settings, "list", "--consumer", "rt_replay")
    assert code == 0 and listing.endswith("2 dead letter(s)\n")
    first = int(listing.split()[0])
    code, shown = await asyncio.to_thread(cli, settings, "show", str(first))
    body = json.loads(shown)
    assert body["reason"] == "no rule for 'uno'" and "original_payload" not in body
    code, shown = await asyncio.to_thread(cli, settings, "show", str(first), "--payload")
    assert json.loads(shown)["original_payload"]["text"] == "uno"

    handler.broken = False
    code, replayed = await asyncio.to_thread(cli, settings, "replay", "--all")
    assert code == 0 and replayed.endswith("2 replayed, 0 not\n")

    async def both_handled() -> bool:
        return len(handler.handled) == 2

    await eventually(both_handled, 10.0, "both replays to be handled")
    code, _ = await asyncio.to_thread(cli, settings, "replay", str(first))
    assert code == tool.EXIT_NOT_REPLAYED  # gone from DLQ once replayed


async def test_a_cut_original_is_not_replayed(
    service: tuple[Bus, Handler], settings: ServiceSettings
) -> None:
    bus, _ = service
    await bus.publish(ping("x" * 720_000), "rttest.ping.acme")  # over MAX_ORIGINAL_PAYLOAD
    nc = await connect_with_retry(settings, 2.0)
    try:

        async def kept() -> list[tool.StoredDeadLetter]:
            return await tool.dead_letters(nc)

        [stored] = await eventually(kept, 10.0, "the dead letter")
        assert stored.letter.original_truncated
        with pytest.raises(tool.NotReplayable):
            await tool.replay(nc, stored)
        assert len(await tool.dead_letters(nc)) == 1
    finally:
        await nc.close()
