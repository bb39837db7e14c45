"""`make run`'s launcher brings up the whole stack, a customer message flows from the
sandbox through the gateway into JetStream, and Ctrl-C leaves no process behind."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

import httpx

from cauce_devstack.launcher import READY_LINE
from cauce_devstack.stack import DEV_TENANT, SERVICE_MODULES
from cauce_devstack.testing import create_admin, free_ports, launched, stored_messages


def test_whole_stack_starts_serves_and_stops_cleanly(tmp_path: Path) -> None:
    ports = free_ports()
    with launched(tmp_path / ".cauce", ports) as stack:
        output = stack.wait_ready(timeout=150)
        assert READY_LINE in output
        commands = " ".join(" ".join(c.cmdline()) for c in stack.children)
        for module in SERVICE_MODULES.values():
            assert module in commands

        with httpx.Client(timeout=10) as client:
            for name in SERVICE_MODULES:
                base = f"http://127.0.0.1:{ports[name]}"
                assert client.get(f"{base}/healthz").status_code == 200
                ready = client.get(f"{base}/readyz")
                assert ready.status_code == 200, (name, ready.text)
                metrics = client.get(f"{base}/metrics").text
                assert "http_server_request_duration_seconds_bucket" in metrics
                assert client.get(f"{base}/openapi.json").status_code == 200

            sent = client.post(
                f"http://127.0.0.1:{ports['sandbox']}/sandbox/customer/send",
                json={"text": "Hola, quiero consultar mi placa", "message_id": "wamid.FULLSTACK"},
            )
        assert sent.status_code == 200, sent.text
        assert sent.json()["gateway_status"] == 200
        assert sent.json()["gateway_body"] == {"status": "accepted", "events": 1}
        subjects = asyncio.run(_inbound_subjects(f"nats://127.0.0.1:{ports['nats']}"))
        assert len(subjects) == 1
        assert subjects[0].startswith(f"inbound.message.received.{DEV_TENANT}.whatsapp.")

        token = _first_admin_logs_in(ports)
        _a_customer_photo_reaches_the_agent(ports, token)

        assert stack.interrupt(timeout=90) == 0
        assert stack.survivors(timeout=15) == []


async def _inbound_subjects(url: str) -> list[str]:
    return [raw.subject or "" for raw in await stored_messages(url, "INBOUND")]


def _first_admin_logs_in(ports: dict[str, int]) -> str:
    """README's first step: the first admin made on the command line logs in, and the
    token is good at identity (no default admin exists)."""
    password = "first admin passphrase for the stack test"
    create_admin(ports["postgres"], DEV_TENANT, "admin@demo.example.com", password)
    base = f"http://127.0.0.1:{ports['identity']}"
    with httpx.Client(base_url=base, timeout=10) as client:
        login = client.post(
            "/api/auth/login", json={"email": "admin@demo.example.com", "password": password}
        )
        assert login.status_code == 200, login.text
        token = login.json()["access_token"]
        me = client.get("/api/auth/me", headers={"authorization": f"Bearer {token}"})
    assert me.status_code == 200 and me.json()["company"]["id"] == DEV_TENANT
    return str(token)


def _a_customer_photo_reaches_the_agent(ports: dict[str, int], token: str) -> None:
    """A photo the customer sends goes sandbox -> gateway -> notifier (downloaded from
    the Graph fake into the media store) -> conversation (on its message), and the
    agent's signed link serves its bytes."""
    photo = {"type": "image", "image": {"id": "1000000000000777", "mime_type": "image/jpeg"}}
    auth = {"authorization": f"Bearer {token}"}
    with httpx.Client(timeout=10) as client:
        sent = client.post(
            f"http://127.0.0.1:{ports['sandbox']}/sandbox/customer/send",
            json={"message": photo, "message_id": "wamid.FULLSTACKPHOTO"},
        )
        assert sent.status_code == 200 and sent.json()["gateway_status"] == 200, sent.text
        conversation = f"http://127.0.0.1:{ports['conversation']}"

        def photo_link() -> str | None:
            for chat in client.get(f"{conversation}/api/chats", headers=auth).json()["items"]:
                path = f"{conversation}/api/chats/messages/{chat['id']}"
                for message in client.get(path, headers=auth).json()["items"]:
                    media = message.get("media") or {}
                    if media.get("url"):
                        return str(media["url"])
            return None

        deadline = time.monotonic() + 30
        while (link := photo_link()) is None and time.monotonic() < deadline:
            time.sleep(0.3)
        assert link is not None, "the photo never reached its message"
        served = client.get(f"{conversation}{link}")
    assert served.status_code == 200 and served.content.startswith(b"\xff\xd8\xff")
    assert served.headers["content-type"] == "image/jpeg"
