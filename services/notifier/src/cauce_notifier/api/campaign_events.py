"""``/api/v1/events/campaigns/...``: campaigns' progress as Server-Sent Events.

A stream first sends each campaign's current state (``snapshot``), then every event of
its feed as it happens (state changes, ``progress`` counts at least once a second while
running), each with the feed's id. A client that reconnects with ``Last-Event-ID``
continues after that id: nothing missed, nothing twice. While nothing happens the
stream sends an id-less ``progress`` heartbeat each second for a running campaign, and
a comment ping every 15 s to keep proxies from closing it.
"""

from __future__ import annotations

import asyncio
import json
import uuid
from collections.abc import AsyncIterator
from typing import Annotated, Any

from fastapi import APIRouter, Header, Response
from sse_starlette import EventSourceResponse

from cauce_notifier.api.campaign_views import CampaignView, StatsView
from cauce_notifier.api.campaigns import stats_of
from cauce_notifier.api.tenants import TenantReader
from cauce_notifier.bootstrap import Notifier, NotifierDep
from cauce_notifier.campaigns.lifecycle import CampaignStatus
from cauce_notifier.campaigns.progress import feed_after, latest_feed_id
from cauce_notifier.campaigns.store import CampaignNotFound
from cauce_runtime import problem_response
from cauce_runtime.web import EVENT_STREAM

router = APIRouter(
    prefix="/api/v1/events/campaigns",
    tags=["campaigns"],
    responses={401: {"description": "missing or wrong tenant token"}},
)
#: How often the feed is read for new events.
POLL_S = 0.25


@router.get(
    "/stream",
    summary="Every campaign of the tenant, as it moves (SSE)",
    response_model=None,
    response_class=EventSourceResponse,
    responses={200: EVENT_STREAM},
)
async def all_campaigns(
    notifier: NotifierDep,
    tenant: TenantReader,
    last_event_id: Annotated[str | None, Header()] = None,
) -> EventSourceResponse:
    return EventSourceResponse(_events(notifier, tenant, None, last_event_id), ping=15)


@router.get(
    "/{campaign_id}/stream",
    summary="One campaign, as it moves (SSE)",
    response_model=None,
    response_class=EventSourceResponse,
    responses={200: EVENT_STREAM},
)
async def one_campaign(
    notifier: NotifierDep,
    tenant: TenantReader,
    campaign_id: uuid.UUID,
    last_event_id: Annotated[str | None, Header()] = None,
) -> Response:
    try:
        await notifier.campaigns.store.get(tenant, campaign_id)
    except CampaignNotFound:
        return problem_response(404, detail="no such campaign")
    return EventSourceResponse(_events(notifier, tenant, campaign_id, last_event_id), ping=15)


async def _events(
    notifier: Notifier, tenant: str, campaign_id: uuid.UUID | None, last_event_id: str | None
) -> AsyncIterator[dict[str, Any]]:
    after = _resume_id(last_event_id)
    if after is None:
        after = await latest_feed_id(notifier.pool, tenant)
        for snapshot in await _snapshots(notifier, tenant, campaign_id):
            yield snapshot
    quiet_since = asyncio.get_running_loop().time()
    while True:
        events = await feed_after(notifier.pool, tenant, after, campaign_id=campaign_id)
        for event in events:
            after = event.id
            payload = {
                "campaign_id": str(event.campaign_id),
                "at": event.at.isoformat(),
                **event.data,
            }
            yield {"id": str(event.id), "event": event.kind, "data": json.dumps(payload)}
        now = asyncio.get_running_loop().time()
        if events:
            quiet_since = now
        elif campaign_id is not None and now - quiet_since >= 1.0:
            quiet_since = now
            heartbeat = await _progress(notifier, tenant, campaign_id)
            if heartbeat is not None:
                yield heartbeat
        await asyncio.sleep(POLL_S)


def _resume_id(header: str | None) -> int | None:
    if header is None or not header.strip().isdigit():
        return None
    return int(header.strip())


async def _snapshots(
    notifier: Notifier, tenant: str, campaign_id: uuid.UUID | None
) -> list[dict[str, Any]]:
    store = notifier.campaigns.store
    if campaign_id is not None:
        campaigns = [await store.get(tenant, campaign_id)]
    else:
        campaigns, _ = await store.list(tenant, limit=200)
    snapshots = []
    for campaign in campaigns:
        stats = StatsView.of(campaign, await stats_of(notifier, campaign))
        data = {
            "campaign": CampaignView.of(campaign).model_dump(mode="json"),
            "stats": stats.model_dump(mode="json"),
        }
        snapshots.append({"event": "snapshot", "data": json.dumps(data)})
    return snapshots


async def _progress(
    notifier: Notifier, tenant: str, campaign_id: uuid.UUID
) -> dict[str, Any] | None:
    try:
        campaign = await notifier.campaigns.store.get(tenant, campaign_id)
    except CampaignNotFound:
        return None
    if campaign.status is not CampaignStatus.RUNNING:
        return None
    stats = StatsView.of(campaign, await stats_of(notifier, campaign))
    return {"event": "progress", "data": stats.model_dump_json()}
