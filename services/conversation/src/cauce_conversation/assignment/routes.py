"""``/api/agents`` and ``/api/teams``: the inbox side of a company's users (availability,
teams, capacity) and its teams (assignment mode, team capacity, automatic assignment).
The company is the caller's; an agent sets their own availability, supervisors
(``chats.assign``) the rest."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, HTTPException
from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from cauce_contracts.identity import Permission
from cauce_conversation.assignment.roster import Agent, AssignmentMode, Roster, Team
from cauce_conversation.bootstrap import ConversationDep
from cauce_conversation.inbox.unavailable import UNAVAILABLE_RESPONSE, unavailable_as_503
from cauce_runtime.identity import Caller, require

Reader = Annotated[Caller, Depends(require(Permission.CHATS_READ))]
Supervisor = Annotated[Caller, Depends(require(Permission.CHATS_ASSIGN))]
Name = Annotated[
    str,
    StringConstraints(strip_whitespace=True, min_length=1, max_length=64, pattern=r"^[\w .-]+$"),
]


class _Body(BaseModel):
    model_config = ConfigDict(extra="forbid")


class Availability(_Body):
    online: bool


class AgentSettings(_Body):
    teams: list[Name] | None = None
    capacity: Annotated[int, Field(ge=0, le=1000)] | None = None
    display_name: Annotated[str, StringConstraints(max_length=128)] | None = None


class TeamSettings(_Body):
    mode: AssignmentMode = "balanced"
    capacity: Annotated[int, Field(ge=0, le=100_000)] | None = None
    auto_assign: bool = True


class AgentView(Agent):
    #: Open and pending chats the agent holds now.
    load: int


router = APIRouter(
    tags=["agents"],
    dependencies=[Depends(unavailable_as_503)],
    responses=UNAVAILABLE_RESPONSE,
)


def _roster(service: ConversationDep) -> Roster:
    return Roster(service.store.database)


@router.get("/api/agents", response_model=list[AgentView])
async def list_agents(service: ConversationDep, caller: Reader) -> list[AgentView]:
    agents = await _roster(service).agents(caller.company_id)
    return [
        AgentView(
            **agent.model_dump(),
            load=await service.store.agent_load(caller.company_id, agent.user_id),
        )
        for agent in agents
    ]


@router.put("/api/agents/me/availability", response_model=Agent)
async def set_availability(service: ConversationDep, caller: Reader, body: Availability) -> Agent:
    """Online agents are given waiting chats; offline ones keep theirs and get no more."""
    if caller.user_id is None:
        raise HTTPException(403, "an API key is not an agent")
    roster = _roster(service)
    agent = await roster.agent_or_new(caller.company_id, caller.user_id)
    return await roster.put_agent(agent.model_copy(update={"online": body.online}))


@router.put("/api/agents/{user_id}", response_model=Agent)
async def configure_agent(
    service: ConversationDep, caller: Supervisor, user_id: Name, body: AgentSettings
) -> Agent:
    roster = _roster(service)
    agent = await roster.agent_or_new(caller.company_id, user_id)
    return await roster.put_agent(agent.model_copy(update=body.model_dump(exclude_none=True)))


@router.get("/api/teams", response_model=list[Team])
async def list_teams(service: ConversationDep, caller: Reader) -> list[Team]:
    return await _roster(service).teams(caller.company_id)


@router.put("/api/teams/{name}", response_model=Team)
async def configure_team(
    service: ConversationDep, caller: Supervisor, name: Name, body: TeamSettings
) -> Team:
    """Create or change a team (``general`` takes the chats no team was named for)."""
    return await _roster(service).put_team(caller.company_id, name, **body.model_dump())
