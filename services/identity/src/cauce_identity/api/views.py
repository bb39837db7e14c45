"""What the identity API answers with (never a password hash or a secret's hash)."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, field_validator

from cauce_contracts.crm import Email
from cauce_contracts.identity import BotMode, CompanyId, Permission
from cauce_identity.logins import Session
from cauce_identity.store import ApiKey, Company, Role, User

Name = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]
Password = Annotated[str, StringConstraints(min_length=1, max_length=1024)]


class _Read(BaseModel):
    """A view read off a store record's attributes; permission sets come out sorted."""

    model_config = ConfigDict(from_attributes=True)

    @field_validator("permissions", "scopes", mode="before", check_fields=False)
    @classmethod
    def _sorted(cls, value: object) -> object:
        return sorted(value) if isinstance(value, set | frozenset) else value


class CompanyView(_Read):
    id: str
    name: str
    #: Who answers the company's customers first: the vehicle-tax bot, nobody, or agents.
    bot: BotMode
    created_at: datetime

    @classmethod
    def of(cls, company: Company) -> CompanyView:
        return cls.model_validate(company)


class CompanyCreate(BaseModel):
    id: CompanyId
    name: Name


class CompanyUpdate(BaseModel):
    name: Name | None = None
    bot: BotMode | None = None


class RoleView(_Read):
    id: uuid.UUID
    name: str
    permissions: list[Permission]
    builtin: bool
    created_at: datetime
    updated_at: datetime

    @classmethod
    def of(cls, role: Role) -> RoleView:
        return cls.model_validate(role)


class RoleWrite(BaseModel):
    name: Name
    permissions: list[Permission]


class UserView(_Read):
    id: uuid.UUID
    company_id: str
    email: str
    full_name: str
    role_id: uuid.UUID
    role: str
    permissions: list[Permission]
    platform_admin: bool
    locked_until: datetime | None
    last_login_at: datetime | None
    created_at: datetime
    updated_at: datetime

    @classmethod
    def of(cls, user: User) -> UserView:
        return cls.model_validate(user)


class UserCreate(BaseModel):
    email: Email
    full_name: Name
    password: Password
    role_id: uuid.UUID


class UserUpdate(BaseModel):
    email: Email | None = None
    full_name: Name | None = None
    role_id: uuid.UUID | None = None
    #: An admin's reset: every session of the user ends.
    password: Password | None = None


class LoginRequest(BaseModel):
    email: Email
    password: Password


class RefreshRequest(BaseModel):
    refresh_token: Annotated[str, StringConstraints(min_length=1, max_length=200)]


class LogoutRequest(BaseModel):
    refresh_token: Annotated[str, StringConstraints(max_length=200)] | None = None


class PasswordChange(BaseModel):
    current_password: Password
    new_password: Password


class TokenAnswer(BaseModel):
    """OAuth 2.0's token response (RFC 6749 §5.1), plus the refresh token and user of a
    login."""

    access_token: str
    token_type: str = "Bearer"  # noqa: S105 - the scheme's name
    expires_in: int
    refresh_token: str | None = None
    user: UserView | None = None

    @classmethod
    def of(cls, session: Session) -> TokenAnswer:
        return cls(
            access_token=session.access.token,
            expires_in=session.access.expires_in,
            refresh_token=session.refresh_token,
            user=UserView.of(session.user),
        )


class ApiKeyView(_Read):
    id: uuid.UUID
    name: str
    scopes: list[Permission]
    created_by: uuid.UUID | None
    created_at: datetime
    last_used_at: datetime | None
    revoked_at: datetime | None

    @classmethod
    def of(cls, key: ApiKey) -> ApiKeyView:
        return cls.model_validate(key)


class ApiKeyCreate(BaseModel):
    name: Name
    scopes: list[Permission] = Field(min_length=1)


class ApiKeyCreated(ApiKeyView):
    #: ``client_secret`` for ``POST /api/auth/token``: shown this once, never again.
    secret: str
