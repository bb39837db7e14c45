"""Start the stack, drive the load while the faults hit it, settle, count, print."""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import Awaitable
from dataclasses import dataclass, field
from pathlib import Path

import httpx

from cauce_devstack.chaos.faults import (
    BOUNDED,
    FULL,
    TWO_REPLICAS,
    Crew,
    Fault,
    Injected,
    inject_all,
)
from cauce_devstack.chaos.journeys import (
    AgentOnChat,
    BotCustomer,
    CampaignOperator,
    ChannelCustomer,
    Doors,
    Journey,
    ManyChatLead,
    OtherChannel,
    signed_in,
)
from cauce_devstack.chaos.ledger import (
    Tally,
    agent_tally,
    bot_tally,
    campaign_tally,
    channel_tally,
    dead_letters,
    lead_tally,
    replay_dead_letters,
    settled,
)
from cauce_devstack.demo_company import ensure_demo_users
from cauce_devstack.launcher import Stack
from cauce_devstack.sandbox.settings import DEV_SCI_WEBHOOK_SECRET
from cauce_devstack.servers.nats_keys import NatsKeys, nats_keys_file
from cauce_devstack.servers.ports import free_port
from cauce_devstack.stack import (
    DEV_CHATTIGO_DID,
    DEV_CHATTIGO_URL_TOKEN,
    DEV_MANYCHAT_API_KEY,
    DEV_TENANT,
    DEV_YCLOUD_NUMBER,
    DEV_YCLOUD_WEBHOOK_SECRET,
    StackConfig,
    second_replica,
)


@dataclass(frozen=True)
class Plan:
    """How much load, which faults, how far apart, and the run's hard limit."""

    customers: int
    leads: int
    #: Recipients of the one campaign run during the faults.
    campaign_recipients: int
    #: Customers who ask for an advisor and get two replies from an agent.
    agent_chats: int
    #: Customers who greet the bot on Chattigo, and as many on YCloud.
    channel_customers: int
    faults: tuple[Fault, ...]
    spacing_s: float
    limit_s: float
    #: Services run as two processes (each killed in turn by :data:`FULL`'s faults).
    two_replicas: tuple[str, ...] = ()


FULL_PLAN = Plan(
    customers=40,
    leads=30,
    campaign_recipients=200,
    agent_chats=10,
    channel_customers=4,
    faults=FULL,
    spacing_s=8.0,
    limit_s=900.0,
    two_replicas=TWO_REPLICAS,
)
BOUNDED_PLAN = Plan(
    customers=4,
    leads=4,
    campaign_recipients=10,
    agent_chats=2,
    channel_customers=1,
    faults=BOUNDED,
    spacing_s=3.0,
    limit_s=300.0,
)


@dataclass
class Report:
    plan: Plan
    elapsed_s: float
    customers: list[BotCustomer]
    leads: list[ManyChatLead]
    campaigns: list[CampaignOperator]
    chats: list[AgentOnChat]
    others: list[ChannelCustomer]
    doors: Doors
    injected: list[Injected]
    tallies: list[Tally]
    settled: bool
    dead_letters: int = 0
    reasonless_dead_letters: int = 0
    #: Dead letters replayed after the run, before the ledger was read.
    replayed_dead_letters: int = 0
    notes: list[str] = field(default_factory=list)

    @property
    def duplicates(self) -> int:
        return sum(t.duplicates for t in self.tallies)

    @property
    def journeys(self) -> list[Journey]:
        return [*self.customers, *self.leads, *self.campaigns, *self.chats, *self.others]

    @property
    def losses(self) -> int:
        stuck = sum(1 for j in self.journeys if not j.finished)
        return sum(t.losses for t in self.tallies) + stuck

    @property
    def clean(self) -> bool:
        faults_ok = all(i.ok for i in self.injected)
        return (
            self.duplicates == 0
            and self.losses == 0
            and faults_ok
            and self.settled
            and self.reasonless_dead_letters == 0
        )

    def table(self) -> str:
        webhooks = self.doors.webhooks
        refused = ", ".join(f"{s or 'no answer'}: {n}" for s, n in sorted(webhooks.refused.items()))
        rows = [
            (
                "load held",
                f"{len(self.customers)} customers to payment, {len(self.leads)} leads "
                f"to Odoo, a campaign to {self.plan.campaign_recipients}, "
                f"{len(self.chats)} agent chats, {len(self.others)} customers on "
                f"Chattigo/YCloud, {self.elapsed_s:.0f} s",
            ),
            (
                "finished",
                f"{sum(j.finished for j in self.journeys)}/{len(self.journeys)} journeys",
            ),
            ("webhooks in", f"{webhooks.accepted} answered 2xx; re-sent after {refused or 'none'}"),
        ]
        for tally in self.tallies:
            rows.append(("effects out", f"{tally.flow}: {tally.found}/{tally.expected} found"))
        for fault in self.injected:
            recovery = (
                "failed: " + fault.error
                if not fault.ok
                else f"recovered in {fault.recovery_s:.1f} s"
            )
            rows.append(("fault", f"{fault.name}: {recovery}"))
        rows += [
            (
                "dead letters",
                f"{self.dead_letters} ({self.reasonless_dead_letters} without a reason;"
                f" {self.replayed_dead_letters} replayed before the ledger)",
            ),
            ("settled", "yes" if self.settled else "NO: consumers still had work"),
            ("duplicates", f"{self.duplicates} (must be 0)"),
            ("losses", f"{self.losses} (must be 0)"),
        ]
        width = max(len(k) for k, _ in rows)
        lines = [f"{k.ljust(width)}  {v}" for k, v in rows]
        notes = [n for t in self.tallies for n in t.notes] + [
            f"stuck: {j.stuck_at}" for j in self.journeys if j.stuck_at
        ]
        if notes:
            lines += ["", "findings:", *(f"  {n}" for n in notes[:40])]
        return "\n".join(lines)


async def exercise(stack: Stack, plan: Plan) -> Report:
    """The load and the faults together, then the ledger."""
    assert stack.sandbox_url and stack.nats_url
    run_id = uuid.uuid4().hex[:6].upper()
    ports = stack.config.ports
    started = time.monotonic()
    deadline = started + plan.limit_s
    async with httpx.AsyncClient(timeout=10) as http:
        doors = Doors(
            http,
            stack.sandbox_url,
            f"http://127.0.0.1:{ports['gateway']}",
            DEV_MANYCHAT_API_KEY,
            DEV_SCI_WEBHOOK_SECRET,
        )
        customers = [
            BotCustomer(doors, f"5730{run_id_digits(run_id)}{n:04d}", run_id, plate_of(run_id, n))
            for n in range(plan.customers)
        ]
        leads = [
            ManyChatLead(doors, f"chaos_{run_id}_{n}", f"5731{n:07d}") for n in range(plan.leads)
        ]
        admin, agent = await _tokens(stack, http)
        digits = run_id_digits(run_id)
        campaigns = [
            CampaignOperator(
                doors,
                f"http://127.0.0.1:{ports['notifier']}",
                admin,
                [f"57310{digits}{n:05d}" for n in range(plan.campaign_recipients)],
            )
        ]
        chats = [
            AgentOnChat(
                doors,
                f"http://127.0.0.1:{ports['conversation']}",
                agent,
                f"57311{digits}{n:05d}",
                f"{run_id}-{n}",
            )
            for n in range(plan.agent_chats)
        ]
        channels = (
            OtherChannel("chattigo", DEV_CHATTIGO_DID, DEV_CHATTIGO_URL_TOKEN),
            OtherChannel("ycloud", DEV_YCLOUD_NUMBER, DEV_YCLOUD_WEBHOOK_SECRET),
        )
        others = [
            ChannelCustomer(doors, channel, f"5731{c + 2}{digits}{n:04d}", run_id)
            for c, channel in enumerate(channels)
            for n in range(plan.channel_customers)
        ]
        window = max(1.0, plan.spacing_s * (len(plan.faults) + 1))
        load = [
            _later(i * window / max(1, len(customers)), c.run(deadline))
            for i, c in enumerate(customers)
        ] + [
            _later(i * window / max(1, len(leads)), lead.run(deadline))
            for i, lead in enumerate(leads)
        ]
        load += [_later(window / 3, campaign.run(deadline)) for campaign in campaigns]
        load += [
            _later(i * window / max(1, len(chats)), chat.run(deadline))
            for i, chat in enumerate(chats)
        ]
        load += [
            _later(i * window / max(1, len(others)), other.run(deadline))
            for i, other in enumerate(others)
        ]
        crew = Crew(http, admin)
        faults = asyncio.create_task(inject_all(stack, crew, plan.faults, plan.spacing_s))
        await asyncio.gather(*load)
        injected = await faults
        seed = NatsKeys.kept_in(nats_keys_file(stack.config.home)).admin_seed
        calm = await settled(stack.nats_url, seed)
        letters, reasonless = await dead_letters(stack.nats_url, seed)
        # dead letters must be replayable: replayed now the faults are over, their
        # effects count in the ledger once like everything else's
        replayed = await replay_dead_letters(stack.nats_url, seed) if not reasonless else 0
        if replayed:
            calm = await settled(stack.nats_url, seed) and calm
        tallies = [
            await bot_tally(http, stack.sandbox_url, customers),
            await lead_tally(http, stack.sandbox_url, leads),
            await campaign_tally(campaigns),
            await agent_tally(chats),
            await channel_tally(others),
        ]
    return Report(
        plan,
        time.monotonic() - started,
        customers,
        leads,
        campaigns,
        chats,
        others,
        doors,
        injected,
        tallies,
        calm,
        letters,
        reasonless,
        replayed,
    )


async def _tokens(stack: Stack, http: httpx.AsyncClient) -> tuple[str, str]:
    """The demo company's admin (campaigns) and agent (replies), signed in."""
    assert stack.postgres_url is not None
    logins = {
        login.role: login for login in await ensure_demo_users(stack.postgres_url, DEV_TENANT)
    }
    identity = f"http://127.0.0.1:{stack.config.ports['identity']}"
    admin, agent = logins["admin"], logins["agent"]
    return (
        await signed_in(http, identity, admin.email, admin.password),
        await signed_in(http, identity, agent.email, agent.password),
    )


def plate_of(run_id: str, n: int) -> str:
    """A car plate (``ABC123``) for customer ``n`` of this run."""
    letters = "".join(chr(65 + (int(run_id, 16) // 26**i + n * (i + 1)) % 26) for i in range(3))
    return f"{letters}{n % 1000:03d}"


def run_id_digits(run_id: str) -> str:
    """Two digits from the run id, so two runs on one sandbox use different phones."""
    return f"{int(run_id, 16) % 100:02d}"


async def _later(delay_s: float, journey: Awaitable[None]) -> None:
    await asyncio.sleep(delay_s)
    await journey


def chaos(home: Path, plan: Plan, ports: dict[str, int] | None = None) -> Report:
    """Start a fresh stack under ``home``, exercise it with ``plan``, stop it."""
    config = StackConfig.create(home, port_overrides=ports)
    twins = [
        second_replica(spec, free_port())
        for spec in config.services
        if spec.name in plan.two_replicas
    ]
    config = config.with_services([*config.services, *twins])
    stack = Stack(config, echo=lambda line: None)
    stack.start()
    try:
        return asyncio.run(exercise(stack, plan))
    finally:
        stack.stop()
