"""Send lanes: a replica makes the sends of its lanes only (``CAUCE_SEND_LANES``), so
campaigns can run on replicas of their own and the bot's replies keep theirs."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

import pytest
from pydantic import ValidationError

from cauce_contracts.streams import NOTIFIER_CAMPAIGN_SENDS, NOTIFIER_REQUESTS
from cauce_notifier.bootstrap import Notifier
from cauce_notifier.consumers import register_consumers
from cauce_notifier.settings import NotifierSettings, SendLane
from cauce_runtime import Bus, ServiceSettings

SEND_CONSUMERS = {NOTIFIER_REQUESTS.durable_name, NOTIFIER_CAMPAIGN_SENDS.durable_name}


async def _handler(*_: Any) -> None:
    return None


def declared(lanes: frozenset[SendLane]) -> set[str]:
    """The durable consumers a replica of ``lanes`` declares."""
    bus = Bus(ServiceSettings(environment="test", _env_file=None))
    stub = SimpleNamespace(
        deliver=_handler,
        apply=_handler,
        fetch=_handler,
        updates=SimpleNamespace(apply=_handler),
    )
    register_consumers(
        bus,
        deliverer=stub,  # type: ignore[arg-type]
        statuses=stub,  # type: ignore[arg-type]
        windows=stub,  # type: ignore[arg-type]
        campaigns=stub,  # type: ignore[arg-type]
        media=stub,  # type: ignore[arg-type]
        delivery_batch_size=8,
        campaign_batch_size=8,
        lanes=lanes,
    )
    return set(bus.consumers)


def test_a_replica_makes_the_sends_of_its_lanes_only() -> None:
    both = declared(frozenset({"replies", "campaigns"}))
    replies = declared(frozenset({"replies"}))
    campaigns = declared(frozenset({"campaigns"}))
    assert both >= SEND_CONSUMERS
    assert replies & SEND_CONSUMERS == {NOTIFIER_REQUESTS.durable_name}
    assert campaigns & SEND_CONSUMERS == {NOTIFIER_CAMPAIGN_SENDS.durable_name}
    # statuses, windows, media and account news are every replica's
    assert both - SEND_CONSUMERS == replies - SEND_CONSUMERS == campaigns - SEND_CONSUMERS


def test_lanes_come_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    assert NotifierSettings(_env_file=None).send_lanes == {"replies", "campaigns"}
    monkeypatch.setenv("CAUCE_SEND_LANES", '["campaigns"]')
    assert NotifierSettings(_env_file=None).send_lanes == {"campaigns"}
    for wrong in ("[]", '["bulk"]'):
        monkeypatch.setenv("CAUCE_SEND_LANES", wrong)
        with pytest.raises(ValidationError):
            NotifierSettings(_env_file=None)


@pytest.mark.parametrize(
    ("lanes", "dispatches"),
    [('["replies"]', False), ('["campaigns"]', True), ('["replies","campaigns"]', True)],
)
async def test_campaigns_are_released_on_their_lane_only(
    monkeypatch: pytest.MonkeyPatch, lanes: str, dispatches: bool
) -> None:
    monkeypatch.setenv("CAUCE_SEND_LANES", lanes)
    monkeypatch.setenv("CAUCE_TEMPLATE_SYNC_INTERVAL_S", "0")
    notifier = Notifier.build(NotifierSettings(_env_file=None))  # nothing connected
    await notifier.campaigns.start()
    try:
        assert notifier.campaigns.dispatching is dispatches
    finally:
        await notifier.campaigns.stop()
