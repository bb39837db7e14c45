"""Who may do what: the permissions roles grant and what a cauce access token says.

The identity service signs access tokens (EdDSA JWTs, ``kid`` in the header); every
service verifies them locally (``cauce_runtime.identity``) with the public keys the
identity service keeps in a JetStream KV bucket. Both sides read the names here.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

#: ``iss`` and ``aud`` of every access token.
TOKEN_ISSUER = "cauce-identity"  # noqa: S105 - a name, not a secret
TOKEN_AUDIENCE = "cauce"  # noqa: S105 - a name, not a secret
#: The one signature algorithm accepted (Ed25519): never taken from the token.
TOKEN_ALGORITHM = "EdDSA"  # noqa: S105 - a name, not a secret

#: JetStream KV buckets: the identity service's public keys (key: ``kid``, value: a JWK)
#: and the sessions revoked before their access tokens expire (key: the session id).
SIGNING_KEYS_BUCKET = "identity-signing-keys"
REVOKED_SESSIONS_BUCKET = "identity-revoked-sessions"
#: Each company's settings other services act on (key: the company id), written by the
#: identity service: which bot answers its numbers.
COMPANY_SETTINGS_BUCKET = "company-settings"

#: A company (tenant) id: the ``tenant_id`` of every event of that company.
CompanyId = Annotated[
    str, StringConstraints(min_length=2, max_length=64, pattern=r"^[a-z0-9][a-z0-9_-]*$")
]


class Permission(StrEnum):
    """What a role may do; operator APIs check one of these per route."""

    CHATS_READ = "chats.read"
    #: Every chat of the company; without it a caller sees the chats assigned to them
    #: and the unassigned ones waiting in their teams (lists, reads, writes, streams).
    CHATS_READ_ALL = "chats.read_all"
    CHATS_REPLY = "chats.reply"
    CHATS_ASSIGN = "chats.assign"
    CHATS_MANAGE = "chats.manage"
    CAMPAIGNS_READ = "campaigns.read"
    CAMPAIGNS_MANAGE = "campaigns.manage"
    TEMPLATES_READ = "templates.read"
    MESSAGES_READ = "messages.read"
    MESSAGES_SEND = "messages.send"
    CHANNELS_MANAGE = "channels.manage"
    PAYMENTS_READ = "payments.read"
    PAYMENTS_MANAGE = "payments.manage"
    REPORTS_READ = "reports.read"
    DEAD_LETTERS_MANAGE = "dead_letters.manage"
    USERS_READ = "users.read"
    USERS_MANAGE = "users.manage"
    ROLES_MANAGE = "roles.manage"
    API_KEYS_MANAGE = "api_keys.manage"
    COMPANY_MANAGE = "company.manage"


#: The roles every company starts with (not editable; a company adds its own).
BUILTIN_ROLES: dict[str, frozenset[Permission]] = {
    "admin": frozenset(Permission),
    "supervisor": frozenset(
        {
            Permission.CHATS_READ,
            Permission.CHATS_READ_ALL,
            Permission.CHATS_REPLY,
            Permission.CHATS_ASSIGN,
            Permission.CHATS_MANAGE,
            Permission.CAMPAIGNS_READ,
            Permission.CAMPAIGNS_MANAGE,
            Permission.TEMPLATES_READ,
            Permission.MESSAGES_READ,
            Permission.PAYMENTS_READ,
            Permission.REPORTS_READ,
            Permission.USERS_READ,
        }
    ),
    "agent": frozenset(
        {
            Permission.CHATS_READ,
            Permission.CHATS_REPLY,
            Permission.TEMPLATES_READ,
            Permission.PAYMENTS_READ,
        }
    ),
}


class AccessClaims(BaseModel):
    """The claims of a cauce access token (registered JWT names plus cauce's own)."""

    model_config = ConfigDict(frozen=True, extra="ignore")

    iss: str
    aud: str
    #: ``user:<uuid>`` or ``api-key:<uuid>``.
    sub: str
    #: The company the caller acts for.
    cid: CompanyId
    #: The role's name (an API key's is ``api-key``).
    role: str
    #: Permission names; a verifier ignores names it does not know (a newer identity
    #: service may grant permissions an older service has never heard of).
    perms: list[str] = Field(default_factory=list)
    #: A platform admin may act for any company, explicitly (never by default).
    pla: bool = False
    #: The session (a login's refresh-token family, or the API key) the token belongs
    #: to: revoking it revokes the token before it expires.
    sid: str
    jti: str
    iat: int
    exp: int


class BotMode(StrEnum):
    """Who answers a company's customers first."""

    #: The vehicle-tax assistant (the seed's bot); it hands over to agents on request.
    VEHICLE_TAX = "vehicle_tax"
    #: Nobody automatically: messages are kept for the inbox, no bot reply.
    NONE = "none"
    #: Agents only: every conversation goes straight to the agents' queue (pending).
    HUMAN_ONLY = "human_only"


class CompanySettings(BaseModel):
    """A company's entry in :data:`COMPANY_SETTINGS_BUCKET`."""

    model_config = ConfigDict(frozen=True, extra="ignore")

    bot: BotMode = BotMode.VEHICLE_TAX
