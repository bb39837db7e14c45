"""PostgreSQL schema ``identity``: companies, roles, users, refresh tokens, API keys."""

from cauce_identity.store.api_keys import ApiKey, ApiKeyStore
from cauce_identity.store.companies import Company, CompanyExists, CompanyStore
from cauce_identity.store.migrations import migrate
from cauce_identity.store.refresh_tokens import RefreshTokenStore, Rotation, new_refresh_token
from cauce_identity.store.roles import Role, RoleInUse, RoleNameTaken, RoleStore
from cauce_identity.store.users import EmailTaken, User, UserStore, lock_remaining

__all__ = [
    "ApiKey",
    "ApiKeyStore",
    "Company",
    "CompanyExists",
    "CompanyStore",
    "EmailTaken",
    "RefreshTokenStore",
    "Role",
    "RoleInUse",
    "RoleNameTaken",
    "RoleStore",
    "Rotation",
    "User",
    "UserStore",
    "lock_remaining",
    "migrate",
    "new_refresh_token",
]
