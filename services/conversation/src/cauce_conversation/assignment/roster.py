"""Teams and agents of a company, as the assigner sees them (MongoDB collections
``teams`` and ``agents``; users themselves live in the identity service, agents here are
their inbox side: availability, teams, capacity)."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field
from pymongo.asynchronous.collection import AsyncCollection
from pymongo.asynchronous.database import AsyncDatabase

from cauce_contracts.envelope import utc_now
from cauce_conversation.store.conversation_store import DEFAULT_TEAM
from cauce_conversation.store.documents import Document, from_document, stored_form, to_document
from cauce_conversation.store.errors import unavailable_as_transient

#: ``round_robin``: whoever was assigned longest ago; ``balanced``: fewest open chats
#: first, ties to whoever waited longest since their last assignment (Intercom's).
AssignmentMode = Literal["round_robin", "balanced"]


class Team(BaseModel):
    model_config = ConfigDict(extra="ignore")

    id: str
    tenant_id: str
    name: str
    mode: AssignmentMode = "balanced"
    #: Chats assigned at once across the team's agents (None: only agents' own limits).
    capacity: int | None = Field(default=None, ge=0)
    #: Waiting chats are given to the team's online agents automatically.
    auto_assign: bool = True


class Agent(BaseModel):
    model_config = ConfigDict(extra="ignore")

    id: str
    tenant_id: str
    #: The identity service's user id (the access token's subject without ``user:``).
    user_id: str
    display_name: str | None = None
    teams: list[str] = Field(default_factory=lambda: [DEFAULT_TEAM])
    online: bool = False
    #: Open and pending chats the agent holds at most (automatic assignment never
    #: goes over; a supervisor's manual assignment may, on purpose).
    capacity: int = Field(default=5, ge=0)
    last_assigned_at: datetime | None = None
    updated_at: datetime = Field(default_factory=utc_now)


__all__ = ["DEFAULT_TEAM", "Agent", "AssignmentMode", "Roster", "Team"]


def _key(tenant_id: str, name: str) -> str:
    return f"{tenant_id}:{name}"


class Roster:
    def __init__(self, db: AsyncDatabase[Document]) -> None:
        self._teams: AsyncCollection[Document] = db.get_collection("teams")
        self._agents: AsyncCollection[Document] = db.get_collection("agents")

    async def teams(self, tenant_id: str) -> list[Team]:
        with unavailable_as_transient("list teams"):
            documents = await self._teams.find({"tenant_id": tenant_id}).to_list()
        return sorted((from_document(Team, d) for d in documents), key=lambda t: t.name)

    async def team(self, tenant_id: str, name: str) -> Team | None:
        with unavailable_as_transient("get team"):
            document = await self._teams.find_one({"_id": _key(tenant_id, name)})
        return None if document is None else from_document(Team, document)

    async def put_team(self, tenant_id: str, name: str, **fields: Any) -> Team:
        team = Team(id=_key(tenant_id, name), tenant_id=tenant_id, name=name, **fields)
        with unavailable_as_transient("put team"):
            await self._teams.replace_one({"_id": team.id}, to_document(team), upsert=True)
        return team

    async def agents(self, tenant_id: str) -> list[Agent]:
        with unavailable_as_transient("list agents"):
            documents = await self._agents.find({"tenant_id": tenant_id}).to_list()
        return sorted((from_document(Agent, d) for d in documents), key=lambda a: a.user_id)

    async def agent(self, tenant_id: str, user_id: str) -> Agent | None:
        with unavailable_as_transient("get agent"):
            document = await self._agents.find_one({"_id": _key(tenant_id, user_id)})
        return None if document is None else from_document(Agent, document)

    async def put_agent(self, agent: Agent) -> Agent:
        stored = stored_form(agent.model_copy(update={"updated_at": utc_now()}))
        with unavailable_as_transient("put agent"):
            await self._agents.replace_one({"_id": stored.id}, to_document(stored), upsert=True)
        return stored

    async def agent_or_new(self, tenant_id: str, user_id: str) -> Agent:
        found = await self.agent(tenant_id, user_id)
        return found or Agent(id=_key(tenant_id, user_id), tenant_id=tenant_id, user_id=user_id)

    async def assigned(self, tenant_id: str, user_id: str, at: datetime) -> None:
        """Note when the agent was last given a chat (round robin and ties use it)."""
        with unavailable_as_transient("note assignment"):
            await self._agents.update_one(
                {"_id": _key(tenant_id, user_id)}, {"$set": {"last_assigned_at": at}}
            )
