"""The dispatcher publishes a round's releases together; a recipient whose values make
no message of the template is left out, not the round, and pauses the campaign with the
reason."""

from __future__ import annotations

import itertools
import uuid
from datetime import UTC, datetime
from typing import Any, cast

import pytest
from pydantic import SecretStr

from cauce_contracts.outbound import CampaignMessageRequested
from cauce_contracts.subjects import Channel, contact_key
from cauce_devstack.testing import RecordingBus
from cauce_notifier.accounts_model import ChannelAccount, WhatsAppCredentials
from cauce_notifier.campaigns.dispatch import Dispatcher, sent_together
from cauce_notifier.campaigns.lifecycle import CampaignStatus
from cauce_notifier.campaigns.recipients import Release
from cauce_notifier.campaigns.store import Campaign
from cauce_notifier.campaigns.templates import Template

NOW = datetime.now(UTC)
TEMPLATE = Template.from_meta(
    {
        "name": "pago_confirmado",
        "language": "es",
        "status": "APPROVED",
        "category": "UTILITY",
        "components": [{"type": "BODY", "text": "Hola {{1}}, tu pago de {{2}} llegó."}],
    }
)
CAMPAIGN = Campaign(
    id=uuid.uuid4(),
    tenant_id="acme",
    name="pagos",
    description=None,
    channel="whatsapp",
    channel_account_id="100000000000001",
    template_name="pago_confirmado",
    template_language="es",
    header_media_link=None,
    default_region="CO",
    status=CampaignStatus.RUNNING,
    status_reason=None,
    status_by=None,
    scheduled_at=None,
    started_at=NOW,
    finished_at=None,
    recipients=3,
    rejected=0,
    created_at=NOW,
    updated_at=NOW,
)
ACCOUNT = ChannelAccount(
    id=uuid.uuid4(),
    tenant_id="acme",
    channel=Channel.WHATSAPP,
    account_id="100000000000001",
    display_name=None,
    rate_per_second=80.0,
    credentials=WhatsAppCredentials(access_token=SecretStr("graph-token")),
    credentials_status="ok",
)
#: Sends that share a send_after on ACCOUNT's number (80/s).
TOGETHER = sent_together(ACCOUNT.rate_per_second)


def release(seq: int, *values: str) -> Release:
    phone = f"+57300000000{seq}"
    return Release(seq, phone, contact_key(phone, b"secret"), values, uuid.uuid4(), 1)


class PutBack:
    """The recipient store's part the dispatcher uses here."""

    def __init__(self) -> None:
        self.put_back_seqs: list[int] = []

    async def put_back(self, campaign_id: uuid.UUID, seqs: list[int]) -> None:
        assert campaign_id == CAMPAIGN.id
        self.put_back_seqs.extend(seqs)


class StatusChanges:
    def __init__(self) -> None:
        self.changes: list[tuple[str, str, str | None]] = []

    async def change_status(
        self, tenant_id: str, campaign_id: uuid.UUID, action: str, *, by: str, reason: str
    ) -> None:
        self.changes.append((action, by, reason))


async def test_a_recipient_that_cannot_be_sent_is_left_out_and_pauses_the_campaign() -> None:
    bus, recipients, campaigns = RecordingBus(), PutBack(), StatusChanges()
    unused: Any = None  # publishing touches neither the database nor the other stores
    dispatcher = Dispatcher(
        unused, cast(Any, campaigns), cast(Any, recipients), unused, unused, bus, unused
    )
    releases = [release(0, "Ana", "$10"), release(1, "only one value"), release(2, "Luz", "$5")]

    await dispatcher._publish(CAMPAIGN, ACCOUNT, TEMPLATE, releases, spread_per_s=80.0)

    sent = [p.event for p in bus.published]
    assert all(isinstance(e, CampaignMessageRequested) for e in sent)
    assert [e.event_id for e in sent] == [
        releases[0].request_event_id,
        releases[2].request_event_id,
    ]
    assert [p.msg_id for p in bus.published] == [f"{r.request_event_id}:1" for r in releases[::2]]
    # the unfit one waits in pending for the operator, who is told why (never its values)
    assert recipients.put_back_seqs == [1]
    [(action, by, reason)] = campaigns.changes
    assert (action, by) == ("pause", "platform")
    assert "recipient 1" in reason and "takes 2 value(s), got 1" in reason
    assert "only one value" not in reason


async def test_a_validation_error_is_reported_without_the_values() -> None:
    bus, recipients, campaigns = RecordingBus(), PutBack(), StatusChanges()
    unused: Any = None
    dispatcher = Dispatcher(
        unused, cast(Any, campaigns), cast(Any, recipients), unused, unused, bus, unused
    )

    await dispatcher._publish(CAMPAIGN, ACCOUNT, TEMPLATE, [release(0, "Ana", "")])

    assert bus.published == [] and recipients.put_back_seqs == [0]
    [(_, _, reason)] = campaigns.changes
    assert "invalid values (ValidationError)" in reason


async def test_a_round_goes_out_a_group_at_a_time_each_group_sharing_its_send_after() -> None:
    bus, recipients, campaigns = RecordingBus(), PutBack(), StatusChanges()
    unused: Any = None
    dispatcher = Dispatcher(
        unused, cast(Any, campaigns), cast(Any, recipients), unused, unused, bus, unused
    )
    releases = [release(seq, "Ana", "$10") for seq in range(2 * TOGETHER + 3)]

    await dispatcher._publish(CAMPAIGN, ACCOUNT, TEMPLATE, releases, spread_per_s=80.0)

    sent = [cast(CampaignMessageRequested, p.event) for p in bus.published]
    assert [e.event_id for e in sent] == [r.request_event_id for r in releases]
    send_afters = [e.send_after for e in sent]
    groups = [send_afters[i : i + TOGETHER] for i in range(0, len(sent), TOGETHER)]
    assert all(len(set(group)) == 1 for group in groups)
    starts = [group[0] for group in groups if group[0] is not None]
    gaps = [(b - a).total_seconds() for a, b in itertools.pairwise(starts)]
    assert len(groups) == 4 and gaps == pytest.approx([TOGETHER / 80.0] * 3, abs=1e-5)


async def test_a_round_stops_publishing_when_the_bus_fails_and_leaves_the_rest_to_the_sweep() -> (
    None
):
    bus, recipients, campaigns = RecordingBus(), PutBack(), StatusChanges()
    unused: Any = None
    dispatcher = Dispatcher(
        unused, cast(Any, campaigns), cast(Any, recipients), unused, unused, bus, unused
    )
    releases = [release(seq, "Ana", "$10") for seq in range(3 * TOGETHER)]
    bus.fail(times=1, after=TOGETHER + 1)  # one publish of the second group refused

    await dispatcher._publish(CAMPAIGN, ACCOUNT, TEMPLATE, releases, spread_per_s=80.0)

    # the first group landed, the second partly (the sweep publishes it again, dropped
    # as duplicates where it landed), the third was not tried: no waiting on a bus that
    # is down, group after group
    assert bus.refused == 1
    assert len(bus.published) == 2 * TOGETHER - 1
    assert campaigns.changes == [] and recipients.put_back_seqs == []


def test_a_group_spans_the_same_time_on_any_number() -> None:
    # 32 ms of the number's rate: a reply waits behind one group at most
    assert [sent_together(rate) for rate in (1000.0, 500.0, 250.0, 80.0, 20.0)] == [32, 16, 8, 2, 1]
