"""Who is calling: what a verified access token says, as route handlers use it."""

from __future__ import annotations

from dataclasses import dataclass

from cauce_contracts.identity import AccessClaims, Permission

_KNOWN = frozenset(p.value for p in Permission)


class NotYourCompany(Exception):
    """A caller asked to act for another company without being a platform admin."""


@dataclass(frozen=True)
class Caller:
    """The verified caller of a request. ``company_id`` comes from the token only."""

    company_id: str
    #: ``user:<uuid>`` or ``api-key:<uuid>``.
    subject: str
    role: str
    permissions: frozenset[Permission]
    platform_admin: bool
    session_id: str

    @classmethod
    def of(cls, claims: AccessClaims) -> Caller:
        return cls(
            company_id=claims.cid,
            subject=claims.sub,
            role=claims.role,
            permissions=frozenset(Permission(p) for p in claims.perms if p in _KNOWN),
            platform_admin=claims.pla,
            session_id=claims.sid,
        )

    @property
    def user_id(self) -> str | None:
        """The user's id (None for an API key)."""
        kind, _, value = self.subject.partition(":")
        return value if kind == "user" else None

    def may(self, permission: Permission) -> bool:
        return permission in self.permissions

    def sees(self, company_id: str) -> bool:
        """Whether the caller may reach ``company_id``'s objects: its own company's, or
        any for a platform admin."""
        return company_id == self.company_id or self.platform_admin

    def company_for(self, requested: str | None) -> str:
        """The company a request acts for: the caller's own, or ``requested`` when a
        platform admin names one explicitly. Raises :class:`NotYourCompany` when anyone
        else names a company that is not theirs."""
        if requested is None or requested == self.company_id:
            return self.company_id
        if self.platform_admin:
            return requested
        raise NotYourCompany(requested)
