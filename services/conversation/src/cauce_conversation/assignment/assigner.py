"""The assigner: waiting chats (handed over by the bot, or unassigned by an agent) go to
an online agent of their team, oldest first, never over an agent's or the team's
capacity; a chat no agent can take waits, and is assigned when capacity frees (a chat
resolved, an agent coming online).

Every replica runs passes; one company's pass runs on one replica at a time (a lease,
:mod:`.leases`), and each assignment counts the agents' and the team's chats in the
database right before it is made, so no counter can drift and two replicas can never
both fill the last slot. (Chatwoot's users report its limit bypassed, #13904, and
uneven load, #11034: both are tests here.)
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Callable, Sequence
from datetime import UTC, datetime

from cauce_contracts.envelope import utc_now
from cauce_conversation.assignment.leases import Leases
from cauce_conversation.assignment.roster import DEFAULT_TEAM, Agent, AssignmentMode, Roster
from cauce_conversation.chat_feed import ChatFeed
from cauce_conversation.model import Conversation
from cauce_conversation.store import ConversationStore
from cauce_runtime import BackgroundTask, TransientError, every

logger = logging.getLogger(__name__)

_NEVER = datetime.min.replace(tzinfo=UTC)


def choose(mode: AssignmentMode, candidates: Sequence[tuple[Agent, int]]) -> Agent | None:
    """The agent a chat goes to among ``(agent, open chats)`` with room for one more."""
    if not candidates:
        return None

    def waited(agent: Agent) -> datetime:
        return agent.last_assigned_at or _NEVER

    if mode == "round_robin":
        return min(candidates, key=lambda c: (waited(c[0]), c[0].user_id))[0]
    return min(candidates, key=lambda c: (c[1], waited(c[0]), c[0].user_id))[0]


def assigned_to(conversation: Conversation, user_id: str) -> Conversation:
    return conversation.model_copy(
        update={"assignee": user_id, "handed_over": True, "queued_at": None}
    )


class Assigner:
    def __init__(
        self,
        store: ConversationStore,
        roster: Roster,
        leases: Leases,
        *,
        poll_s: float = 1.0,
        clock: Callable[[], datetime] = utc_now,
        feed: ChatFeed | None = None,
    ) -> None:
        self.store = store
        self.feed = feed
        self.roster = roster
        self.leases = leases
        self.poll_s = poll_s
        self.clock = clock
        self._task = BackgroundTask("assigner")
        #: The companies whose lease this replica took (given back on stop).
        self._held: set[str] = set()

    @classmethod
    def for_replica(cls, store: ConversationStore, **kwargs: object) -> Assigner:
        db = store.database
        holder = f"assigner-{uuid.uuid4().hex[:12]}"
        return cls(store, Roster(db), Leases(db, holder), **kwargs)  # type: ignore[arg-type]

    async def start(self) -> None:
        self._task.start(every(self.poll_s, self.run_pass, "assignment pass"))

    async def stop(self) -> None:
        """Stop passing, and give the leases back so another replica carries on at once
        (not when they lapse)."""
        await self._task.stop()
        for lease in self._held:
            try:
                await self.leases.release(lease)
            except TransientError as exc:
                logger.warning("lease %s not released (%s); it lapses", lease, exc)
        self._held.clear()

    async def run_pass(self) -> list[tuple[str, str]]:
        """Assign what can be assigned now, in every company whose lease this replica
        gets; the ``(chat, agent)`` pairs it assigned."""
        done: list[tuple[str, str]] = []
        for tenant_id in await self.store.waiting_tenants():
            lease = f"assigner:{tenant_id}"
            if await self.leases.hold(lease):
                self._held.add(lease)
                done.extend(await self.assign_waiting(tenant_id))
        return done

    async def assign_waiting(self, tenant_id: str) -> list[tuple[str, str]]:
        teams = {team.name: team for team in await self.roster.teams(tenant_id)}
        online = [agent for agent in await self.roster.agents(tenant_id) if agent.online]
        done: list[tuple[str, str]] = []
        if not teams or not online:
            return done
        for chat in await self.store.waiting(tenant_id):
            team = teams.get(chat.team or DEFAULT_TEAM)
            if team is None or not team.auto_assign:
                continue
            if team.capacity is not None and (
                await self.store.team_load(tenant_id, team.name) >= team.capacity
            ):
                continue  # the team is full: the chat keeps its place in the queue
            candidates = []
            for agent in online:
                if team.name in agent.teams:
                    load = await self.store.agent_load(tenant_id, agent.user_id)
                    if load < agent.capacity:
                        candidates.append((agent, load))
            chosen = choose(team.mode, candidates)
            if chosen is None:
                continue
            if not await self.leases.hold(f"assigner:{tenant_id}"):
                break  # the lease lapsed: another replica carries on
            saved = await self.store.save(assigned_to(chat, chosen.user_id))
            if saved is None:
                continue  # the chat changed meanwhile (an agent took it): next pass
            if self.feed is not None:
                await self.feed.changed(saved, "assignment")
            now = self.clock()
            await self.roster.assigned(tenant_id, chosen.user_id, now)
            online = [
                a.model_copy(update={"last_assigned_at": now}) if a.id == chosen.id else a
                for a in online
            ]
            done.append((chat.id, chosen.user_id))
            logger.info("chat %s assigned to %s", chat.id, chosen.user_id)
        return done
