"""The service app: probes, metrics, problem+json, and the bus in the lifespan."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import httpx
from fastapi import APIRouter, FastAPI, HTTPException
from pydantic import BaseModel

from cauce_devstack.servers.nats import NatsServer
from cauce_runtime import Bus, ServiceSettings, create_service_app

from .conftest import TEST_STREAM


class Plate(BaseModel):
    plate: str


router = APIRouter()


@router.post("/plates/{tenant}")
async def add_plate(tenant: str, body: Plate) -> dict[str, str]:
    if body.plate == "nope":
        raise HTTPException(status_code=409, detail="plate already registered")
    return {"tenant": tenant, "plate": body.plate}


@asynccontextmanager
async def running(app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    """Run the app's lifespan and talk to it in-process."""
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://svc") as client:
            yield client


async def test_probes_follow_the_bus(settings: ServiceSettings, nats_server: NatsServer) -> None:
    bus = Bus(settings, streams=(TEST_STREAM,))
    app = create_service_app(settings, bus=bus, readiness_timeout_s=0.5)
    async with running(app) as client:
        assert (await client.get("/healthz")).json()["status"] == "ok"
        ready = await client.get("/readyz")
        assert ready.status_code == 200
        assert ready.json()["checks"] == {"bus": "ok"}

        nats_server.stop()
        down = await client.get("/readyz")
        assert down.status_code == 503
        assert down.json()["failing"] == ["bus"]
        assert (await client.get("/healthz")).status_code == 200


async def test_readiness_checks_are_named_when_failing(settings: ServiceSettings) -> None:
    async def store_ok() -> bool:
        return True

    async def store_down() -> bool:
        raise ConnectionError("mongo unreachable")

    app = create_service_app(
        settings, bus=Bus(settings, streams=()), readiness={"mongo": store_down, "cache": store_ok}
    )
    async with running(app) as client:
        response = await client.get("/readyz")
    assert response.status_code == 503
    assert response.json()["failing"] == ["mongo"]
    assert response.json()["checks"] == {"bus": "ok", "mongo": "failing", "cache": "ok"}


async def test_bus_down_at_start_keeps_the_service_alive(settings: ServiceSettings) -> None:
    unreachable = settings.model_copy(
        update={"nats_url": "nats://127.0.0.1:1", "nats_connect_timeout": 0.2}
    )
    app = create_service_app(unreachable, bus=Bus(unreachable))
    async with running(app) as client:
        assert (await client.get("/healthz")).status_code == 200
        assert (await client.get("/readyz")).status_code == 503


async def test_metrics_docs_and_problem_json(settings: ServiceSettings) -> None:
    app = create_service_app(settings, bus=None, routers=[router], title="plates", version="9.9.9")
    async with running(app) as client:
        assert (await client.post("/plates/acme", json={"plate": "ABC123"})).status_code == 200
        metrics = await client.get("/metrics")
        assert metrics.headers["content-type"].startswith("text/plain")
        assert (
            'http_server_request_duration_seconds_count{http_request_method="POST",'
            'http_response_status_code="200",http_route="/plates/{tenant}"' in (metrics.text)
        )

        invalid = await client.post("/plates/acme", json={"plate": 5})
        assert invalid.status_code == 422
        assert invalid.headers["content-type"] == "application/problem+json"
        problem = invalid.json()
        assert problem["status"] == 422 and problem["errors"][0]["loc"] == ["body", "plate"]

        conflict = await client.post("/plates/acme", json={"plate": "nope"})
        assert conflict.headers["content-type"] == "application/problem+json"
        assert conflict.json() == {
            "type": "about:blank",
            "title": "Conflict",
            "status": 409,
            "detail": "plate already registered",
            "instance": "/plates/acme",
        }
        missing = await client.get("/nowhere")
        assert missing.status_code == 404 and missing.json()["title"] == "Not Found"

        openapi = (await client.get("/openapi.json")).json()
        assert openapi["info"] == {"title": "plates", "version": "9.9.9", "description": ""} or (
            openapi["info"]["title"] == "plates" and openapi["info"]["version"] == "9.9.9"
        )
        assert {"/healthz", "/readyz", "/metrics", "/plates/{tenant}"} <= set(openapi["paths"])
        assert (await client.get("/docs")).status_code == 200


def published(metrics_text: str, outcome: str) -> float:
    """The ``cauce_bus_published_total`` samples for ``outcome``, summed over every
    subject (the counter is process-wide: earlier tests published on others)."""
    return sum(
        float(line.rsplit(" ", 1)[1])
        for line in metrics_text.splitlines()
        if line.startswith("cauce_bus_published_total{") and f'outcome="{outcome}"' in line
    )


async def test_metrics_count_publishes_by_outcome(settings: ServiceSettings) -> None:
    from .conftest import Ping

    bus = Bus(settings, streams=(TEST_STREAM,))
    app = create_service_app(settings, bus=bus)
    async with running(app) as client:
        before = (await client.get("/metrics")).text
        event = Ping(tenant_id="acme", correlation_id="c1", text="hola")
        await bus.publish(event, "rttest.ping")
        await bus.publish(event, "rttest.ping")  # same Nats-Msg-Id: a duplicate
        after = (await client.get("/metrics")).text
    assert published(after, "acked") - published(before, "acked") == 1
    assert published(after, "duplicate") - published(before, "duplicate") == 1
    assert "cauce_bus_publish_duration_seconds_bucket" in after
