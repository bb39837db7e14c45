"""Logins and sessions: password login with lockout, refresh-token rotation with replay
detection, logout, password change, and API keys exchanged for access tokens.

A session is a login's refresh-token family; its id is the ``sid`` of every access
token issued in it, so revoking the family revokes those tokens too (through
:class:`~cauce_identity.revocations.SessionRevocations`).
"""

from __future__ import annotations

import logging
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from cauce_identity.access_tokens import AccessTokens, IssuedToken
from cauce_identity.passwords import hash_password, needs_rehash, verify_password
from cauce_identity.revocations import SessionRevocations
from cauce_identity.settings import IdentitySettings
from cauce_identity.store import (
    ApiKeyStore,
    RefreshTokenStore,
    User,
    UserStore,
    lock_remaining,
    new_refresh_token,
)

logger = logging.getLogger(__name__)


class LoginRefused(Exception):
    """Wrong e-mail or password (which one is never told)."""


class AccountLocked(Exception):
    """Too many failures in a row: try again after ``retry_after_s``."""

    def __init__(self, retry_after_s: float) -> None:
        super().__init__(f"account locked for {retry_after_s:.0f} s")
        self.retry_after_s = retry_after_s


class RefreshRefused(Exception):
    """The refresh token is unknown, expired, revoked or was replayed."""


class WeakPassword(ValueError):
    """The new password does not meet the policy."""


@dataclass(frozen=True)
class Session:
    """What a login or a refresh returns."""

    access: IssuedToken
    refresh_token: str
    user: User


class Logins:
    def __init__(
        self,
        settings: IdentitySettings,
        users: UserStore,
        refresh_tokens: RefreshTokenStore,
        api_keys: ApiKeyStore,
        access_tokens: AccessTokens,
        revocations: SessionRevocations,
    ) -> None:
        self.settings = settings
        self.users = users
        self.refresh_tokens = refresh_tokens
        self.api_keys = api_keys
        self.access_tokens = access_tokens
        self.revocations = revocations

    @property
    def _refresh_ttl(self) -> timedelta:
        return timedelta(seconds=self.settings.refresh_token_ttl_s)

    async def log_in(self, email: str, password: str) -> Session:
        user = await self.users.by_email(email)
        if user is not None:
            remaining = lock_remaining(user, datetime.now(UTC))
            if remaining is not None:
                raise AccountLocked(remaining.total_seconds())
        if not await verify_password(user.password_hash if user else None, password):
            if user is not None:
                await self._count_failure(user)
            raise LoginRefused()
        assert user is not None
        rehashed = await hash_password(password) if needs_rehash(user.password_hash) else None
        await self.users.login_succeeded(user.id, rehashed)
        family = uuid.uuid4()
        refresh = new_refresh_token()
        await self.refresh_tokens.issue(user.id, family, self._refresh_ttl, refresh)
        return Session(self._access_for(user, family), refresh, user)

    async def refresh(self, token: str) -> Session:
        replacement = new_refresh_token()
        rotation = await self.refresh_tokens.rotate(token, replacement, self._refresh_ttl)
        if rotation.outcome == "reused":
            assert rotation.family_id is not None
            logger.warning(
                "a spent refresh token was replayed: session %s revoked", rotation.family_id
            )
            await self.revocations.revoke(str(rotation.family_id))
            raise RefreshRefused("refresh token already used: the session is revoked")
        if rotation.outcome != "rotated":
            raise RefreshRefused("refresh token invalid or expired")
        assert rotation.user_id is not None and rotation.family_id is not None
        user = await self.users.by_id(rotation.user_id)
        if user is None:
            raise RefreshRefused("the user no longer exists")
        return Session(self._access_for(user, rotation.family_id), replacement, user)

    async def log_out(self, session_id: str, refresh_token: str | None = None) -> None:
        """End the caller's session (and the one ``refresh_token`` belongs to)."""
        families = {session_id}
        if refresh_token:
            family = await self.refresh_tokens.family_of(refresh_token)
            if family is not None:
                families.add(str(family))
        for family_id in families:
            try:
                await self.refresh_tokens.revoke_family(uuid.UUID(family_id))
            except ValueError:
                continue  # an API key's session: nothing to revoke here
        await self.revocations.revoke(*families)

    async def change_password(self, user: User, current: str, new: str) -> None:
        """Set a new password (the current one proven); every session of the user ends."""
        if not await verify_password(user.password_hash, current):
            await self._count_failure(user)
            raise LoginRefused()
        await self.set_password(user, new)

    async def set_password(self, user: User, new: str) -> None:
        """Set ``user``'s password (an admin's reset too) and end their sessions."""
        check_password_policy(new, self.settings.password_min_length, user.email)
        await self.users.set_password(user.id, await hash_password(new))
        await self.end_sessions(user)

    async def end_sessions(self, user: User) -> None:
        families = await self.refresh_tokens.revoke_user(user.id)
        await self.revocations.revoke(*(str(f) for f in families))

    async def token_for_api_key(self, key_id: str, secret: str) -> IssuedToken | None:
        """An access token with the key's scopes (None: unknown, wrong or revoked key)."""
        try:
            parsed = uuid.UUID(key_id)
        except ValueError:
            return None
        key = await self.api_keys.authenticate(parsed, secret)
        if key is None:
            return None
        return self.access_tokens.issue(
            subject=f"api-key:{key.id}",
            company_id=key.company_id,
            role="api-key",
            permissions=key.scopes,
            session_id=api_key_session(key.id),
        )

    async def _count_failure(self, user: User) -> None:
        locked_until = await self.users.login_failed(
            user.id,
            self.settings.login_max_failures,
            self.settings.login_lockout_s,
            self.settings.login_lockout_max_s,
        )
        if locked_until is not None and locked_until > datetime.now(UTC):
            logger.warning("user %s locked until %s after failed logins", user.id, locked_until)

    def _access_for(self, user: User, family: uuid.UUID) -> IssuedToken:
        return self.access_tokens.issue(
            subject=f"user:{user.id}",
            company_id=user.company_id,
            role=user.role,
            permissions=user.permissions,
            session_id=str(family),
            platform_admin=user.platform_admin,
        )


def api_key_session(key_id: uuid.UUID) -> str:
    """The ``sid`` of an API key's access tokens (revoking the key revokes them)."""
    return f"api-key-{key_id}"


def check_password_policy(password: str, min_length: int, email: str) -> None:
    """NIST SP 800-63B in brief: long enough, not the e-mail; no composition rules."""
    if len(password) < min_length:
        raise WeakPassword(f"a password needs at least {min_length} characters")
    if len(password) > 1024:
        raise WeakPassword("a password may have at most 1024 characters")
    if password.lower() == email.lower() or password.lower() == email.split("@")[0].lower():
        raise WeakPassword("a password must not be the e-mail address")
