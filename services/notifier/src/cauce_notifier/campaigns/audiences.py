"""A campaign's audience from cauce's own leads: a segment of what crm-sync holds.

Instead of a CSV, an operator can describe who to send to as a :class:`LeadSegment`
(the lead's current state, the ManyChat campaign it was assigned to, its advisor, when
it was last active) and which lead field fills each template variable. The segment is
resolved when the campaign starts (by an operator or its schedule), so it reaches the
leads as they are then; from there on the recipients are fixed, exactly as a CSV's.

The leads come from crm-sync's lead export (``GET /internal/lead-exports/contacts``, a
CSV of one tenant, behind a service token): services never read each other's tables.
The export is streamed to a temporary file and read back like an uploaded CSV, through
the same checks (E.164 in the campaign's region, duplicates, empty or malformed
variables), so a lead without a valid phone is reported as a rejection, not sent.
"""

from __future__ import annotations

import csv
import tempfile
from collections.abc import AsyncIterator, Iterable, Iterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import datetime
from typing import IO, Any, Final, Literal

import httpx

from cauce_notifier.campaigns.recipients_csv import Row, checked_row
from cauce_runtime import CauceError

#: The lead fields a template variable can take (columns of crm-sync's export).
LeadField = Literal[
    "nombre_lead",
    "first_name",
    "last_name",
    "email",
    "ultimo_estado",
    "campaign_id",
    "comercial_id",
    "manychat_id",
]
#: The column of crm-sync's export holding the lead's phone.
PHONE_FIELD: Final = "phone"
#: Bytes of the export kept in memory before it spills to disk.
_SPOOL_BYTES = 8 * 1024 * 1024


class AudienceUnavailable(CauceError):
    """The leads could not be read (crm-sync unset, down, or refusing us): the campaign
    does not start, and nothing of it changes."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


@dataclass(frozen=True)
class LeadSegment:
    """Which of the tenant's leads a campaign goes to, and what fills its variables."""

    #: The lead field for ``variable_1``, ``variable_2``... in the template's order.
    variables: tuple[str, ...] = ()
    #: The lead's current state (``ultimo_estado``), as crm-sync records it.
    state: str | None = None
    #: The ManyChat campaign the lead was assigned to.
    manychat_campaign: str | None = None
    #: The lead's advisor (``comercial_id``).
    advisor: str | None = None
    #: Last activity at or after this (inclusive) and before ``active_until``.
    active_since: datetime | None = None
    active_until: datetime | None = None

    def to_json(self) -> dict[str, Any]:
        return {
            "source": "crm_leads",
            "variables": list(self.variables),
            "state": self.state,
            "manychat_campaign": self.manychat_campaign,
            "advisor": self.advisor,
            "active_since": self.active_since.isoformat() if self.active_since else None,
            "active_until": self.active_until.isoformat() if self.active_until else None,
        }

    @classmethod
    def from_json(cls, value: dict[str, Any]) -> LeadSegment:
        def when(key: str) -> datetime | None:
            return datetime.fromisoformat(value[key]) if value.get(key) else None

        return cls(
            variables=tuple(value.get("variables", ())),
            state=value.get("state"),
            manychat_campaign=value.get("manychat_campaign"),
            advisor=value.get("advisor"),
            active_since=when("active_since"),
            active_until=when("active_until"),
        )

    def query(self, tenant_id: str) -> dict[str, str]:
        """The lead export's filters for this segment of ``tenant_id``'s leads."""
        filters = {
            "tenant": tenant_id,
            "state": self.state,
            "campaign": self.manychat_campaign,
            "advisor": self.advisor,
            "since": self.active_since.isoformat() if self.active_since else None,
            "until": self.active_until.isoformat() if self.active_until else None,
        }
        return {k: v for k, v in filters.items() if v is not None}


class CrmLeads:
    """crm-sync's leads, read through its lead export."""

    def __init__(self, http: httpx.AsyncClient, base_url: str | None, token: str | None) -> None:
        self._http = http
        self._base_url = base_url.rstrip("/") if base_url else None
        self._token = token

    @asynccontextmanager
    async def export(self, tenant_id: str, segment: LeadSegment) -> AsyncIterator[IO[bytes]]:
        """The segment's leads as crm-sync's CSV export, in a temporary file (rewound)."""
        if self._base_url is None or self._token is None:
            raise AudienceUnavailable(
                "lead audiences need crm-sync: set CAUCE_CRM_SYNC_URL and "
                "CAUCE_CRM_SYNC_LEAD_EXPORT_TOKEN"
            )
        with tempfile.SpooledTemporaryFile(max_size=_SPOOL_BYTES) as file:
            await self._download(tenant_id, segment, file)
            file.seek(0)
            yield file

    async def _download(self, tenant_id: str, segment: LeadSegment, into: IO[bytes]) -> None:
        try:
            async with self._http.stream(
                "GET",
                f"{self._base_url}/internal/lead-exports/contacts",
                params=segment.query(tenant_id),
                headers={"Authorization": f"Bearer {self._token}"},
            ) as response:
                if response.status_code != 200:
                    await response.aread()
                    raise AudienceUnavailable(
                        f"crm-sync answered {response.status_code} to the leads export"
                    )
                async for chunk in response.aiter_bytes():
                    into.write(chunk)
        except httpx.HTTPError as exc:
            raise AudienceUnavailable(
                f"crm-sync could not be reached ({type(exc).__name__})"
            ) from exc


def read_leads(lines: Iterable[str], segment: LeadSegment, default_region: str) -> Iterator[Row]:
    """Each lead of crm-sync's export as a recipient row, accepted or rejected; a row's
    ``line`` is its line in the export."""
    reader = csv.DictReader(lines, strict=False)
    missing = {PHONE_FIELD, *segment.variables} - set(reader.fieldnames or ())
    if missing:
        raise AudienceUnavailable(
            f"crm-sync's export has no {', '.join(sorted(missing))} column(s)"
        )
    width = len(segment.variables) + 1
    seen: dict[str, int] = {}
    for lead in reader:
        cells = (lead[PHONE_FIELD] or "", *(lead[f] or "" for f in segment.variables))
        yield checked_row(
            reader.line_num, tuple(cells), width, default_region, seen, segment.variables
        )
