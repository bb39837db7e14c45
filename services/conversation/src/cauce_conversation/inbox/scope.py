"""Which chats a caller sees, by role.

A caller whose role holds ``chats.read_all`` (admins, supervisors) sees every chat of
their company. Any other reader (the built-in ``agent`` role) sees the chats assigned
to them and the unassigned chats waiting in the queues of their teams (the teams of
their agent record; ``general`` when they have none), as Chatwoot shows an agent only
the inboxes they belong to. Everything else is a 404, as another company's chat is:
in lists and counts, reads, writes and the live stream alike.

The teams are read once per request (once per connection for a stream): an agent
moved to another team sees the change on their next request or reconnect.
"""

# No ``from __future__ import annotations``: FastAPI must read the dependency's
# ``Depends(guard)`` annotation at runtime, where ``guard`` is a closure variable.

from dataclasses import dataclass
from typing import Annotated, Any

from fastapi import Depends

from cauce_contracts.identity import Permission
from cauce_conversation.assignment.roster import DEFAULT_TEAM, Roster
from cauce_conversation.bootstrap import ConversationDep
from cauce_conversation.model import Conversation
from cauce_runtime.identity import Caller, require


@dataclass(frozen=True)
class ChatScope:
    """The caller and the part of their company's chats they may see."""

    caller: Caller
    #: None: every chat of the company (and any company's, for a platform admin).
    teams: frozenset[str] | None = None

    @property
    def everything(self) -> bool:
        return self.teams is None

    def sees(self, tenant_id: str, assignee: str | None, team: str | None) -> bool:
        if not self.caller.sees(tenant_id):
            return False
        if self.teams is None:
            return True
        if assignee is not None:
            return assignee == self.caller.user_id
        return (team or DEFAULT_TEAM) in self.teams

    def sees_chat(self, conversation: Conversation) -> bool:
        return self.sees(conversation.tenant_id, conversation.assignee, conversation.team)

    def query(self) -> dict[str, Any] | None:
        """The MongoDB condition on conversations for this scope (None: no narrowing
        beyond the company)."""
        if self.teams is None:
            return None
        queues: list[str | None] = [*sorted(self.teams)]
        if DEFAULT_TEAM in self.teams:
            queues.append(None)  # chats no team was named for are the default team's
        return {
            "$or": [
                {"assignee": self.caller.user_id},
                {"assignee": None, "team": {"$in": queues}},
            ]
        }


async def scope_of(roster: Roster, caller: Caller) -> ChatScope:
    """The chats ``caller`` sees (reads the agent's teams only for narrowed roles)."""
    if caller.may(Permission.CHATS_READ_ALL) or caller.platform_admin or caller.user_id is None:
        # API keys (no user) act for the whole company within their scopes.
        return ChatScope(caller)
    agent = await roster.agent(caller.company_id, caller.user_id)
    return ChatScope(caller, frozenset(agent.teams if agent else (DEFAULT_TEAM,)))


def scoped(permission: Permission) -> Any:
    """A dependency: the caller's :class:`ChatScope`, once they hold ``permission``."""
    guard = require(permission)

    async def dependency(
        service: ConversationDep, caller: Annotated[Caller, Depends(guard)]
    ) -> ChatScope:
        return await scope_of(Roster(service.store.database), caller)

    return dependency


#: Route parameters: the caller's scope, after the permission the route needs.
Reader = Annotated[ChatScope, Depends(scoped(Permission.CHATS_READ))]
Assigner = Annotated[ChatScope, Depends(scoped(Permission.CHATS_ASSIGN))]
Manager = Annotated[ChatScope, Depends(scoped(Permission.CHATS_MANAGE))]
Replier = Annotated[ChatScope, Depends(scoped(Permission.CHATS_REPLY))]
