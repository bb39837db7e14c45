"""A lead segment as crm-sync's filters, and crm-sync's export read as recipients."""

from __future__ import annotations

import io
from datetime import UTC, datetime

import pytest

from cauce_notifier.campaigns.audiences import AudienceUnavailable, LeadSegment, read_leads
from cauce_notifier.campaigns.recipients_csv import AcceptedRow, RejectedRow

EXPORT = (
    "tenant_id,manychat_id,nombre_lead,first_name,phone,comercial_id\n"
    "acme,l1,Juan Lead,Juan,+573001110001,ana\n"
    "acme,l2,Ana Lead,,573001110002,ana\n"
    "acme,l3,Dup Lead,Dup,3001110001,ana\n"
    "acme,l4,Sin Lead,Sin,,ana\n"
)


def test_the_segment_is_the_lead_export_filters_without_the_unset_ones() -> None:
    since = datetime(2026, 11, 1, tzinfo=UTC)
    segment = LeadSegment(variables=("first_name",), advisor="ana", active_since=since)
    assert segment.query("acme") == {
        "tenant": "acme",
        "advisor": "ana",
        "since": "2026-11-01T00:00:00+00:00",
    }
    assert LeadSegment.from_json(segment.to_json()) == segment


def test_leads_pass_the_csv_checks_with_their_field_names_in_reasons() -> None:
    segment = LeadSegment(variables=("first_name", "nombre_lead"))
    rows = list(read_leads(io.StringIO(EXPORT), segment, "CO"))
    assert rows[0] == AcceptedRow(2, "+573001110001", ("Juan", "Juan Lead"), "CO")
    assert isinstance(rows[1], RejectedRow) and rows[1].reason == "first_name is empty"
    assert isinstance(rows[2], RejectedRow) and rows[2].reason == "duplicate of line 2"
    assert isinstance(rows[3], RejectedRow) and rows[3].reason == "empty phone number"


def test_an_export_without_a_named_field_is_refused_whole() -> None:
    segment = LeadSegment(variables=("last_name",))
    with pytest.raises(AudienceUnavailable, match="no last_name column"):
        list(read_leads(io.StringIO(EXPORT), segment, "CO"))
