"""`make run`'s launcher brings up the whole stack, a customer message flows from the
sandbox through the gateway into JetStream, and Ctrl-C leaves no process behind."""

from __future__ import annotations

import asyncio
import json
import time
from pathlib import Path

import httpx
from pydantic import BaseModel, SecretStr

from cauce_devstack.launcher import READY_LINE
from cauce_devstack.sandbox.settings import DEV_SCI_WEBHOOK_SECRET
from cauce_devstack.stack import (
    DEV_MANYCHAT_API_KEY,
    DEV_ODOO_WEBHOOK_TOKEN,
    DEV_TENANT,
    SERVICE_MODULES,
)
from cauce_devstack.testing import (
    create_admin,
    dev_admin_seed,
    free_ports,
    launched,
    stored_messages,
)

from .test_env_example import SETTINGS as SETTINGS_CLASSES


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
        admin = dev_admin_seed(tmp_path / ".cauce")
        subjects = asyncio.run(_inbound_subjects(f"nats://127.0.0.1:{ports['nats']}", admin))
        assert len(subjects) == 1
        assert subjects[0].startswith(f"inbound.message.received.{DEV_TENANT}.whatsapp.")

        token = _first_admin_logs_in(ports)
        _a_customer_photo_reaches_the_agent(ports, token)
        scraped = _every_metrics_page(ports)

        assert stack.interrupt(timeout=90) == 0
        assert stack.survivors(timeout=15) == []
    _nothing_secret_was_written(tmp_path / ".cauce", scraped, token)


async def _inbound_subjects(url: str, seed: str) -> list[str]:
    return [raw.subject or "" for raw in await stored_messages(url, "INBOUND", nkey_seed=seed)]


#: What the run used that must never be written in clear: the customer's number (as
#: sent and in E.164), the admin's password (see ``_first_admin_logs_in``) and the
#: dev secrets the services and the sandbox share.
CUSTOMER = "573001234567"
ADMIN_PASSWORD = "first admin passphrase for the stack test"


def _every_metrics_page(ports: dict[str, int]) -> str:
    with httpx.Client(timeout=10) as client:
        return "\n".join(
            client.get(f"http://127.0.0.1:{ports[name]}/metrics").text for name in SERVICE_MODULES
        )


def _dev_secrets() -> set[str]:
    """Every secret value the dev stack runs with: the SecretStr defaults of each
    service's settings (nested accounts included) and the stack's dev-only keys."""
    found = {DEV_ODOO_WEBHOOK_TOKEN, DEV_MANYCHAT_API_KEY, DEV_SCI_WEBHOOK_SECRET}

    def walk(value: object) -> None:
        if isinstance(value, SecretStr):
            found.add(value.get_secret_value())
        elif isinstance(value, BaseModel):
            for name in type(value).model_fields:
                walk(getattr(value, name))
        elif isinstance(value, list | tuple | set):
            for item in value:
                walk(item)

    for settings_class in SETTINGS_CLASSES:
        walk(settings_class(_env_file=None))  # type: ignore[call-arg]
    return {secret for secret in found if len(secret) >= 8}


def _nothing_secret_was_written(home: Path, metrics: str, token: str) -> None:
    """Issue 18's secrets check: the run's logs, spans and metrics hold none of them."""
    secrets = {CUSTOMER, f"+{CUSTOMER}", ADMIN_PASSWORD, token, *_dev_secrets()}
    signing_key = (home / "identity" / "signing_key.pem").read_text()
    secrets.add("".join(signing_key.strip().splitlines()[1:-1]))  # the key's body
    secrets |= set(json.loads((home / "nats-auth" / "keys.json").read_text()).values())
    written = {
        **{
            f"logs/{log.name}": log.read_text(errors="replace")
            for log in (home / "logs").glob("*.log")
        },
        "spans": (home / "traces" / "spans.jsonl").read_text(errors="replace"),
        "metrics": metrics,
    }
    assert written["spans"] and written["logs/gateway.log"] is not None
    leaks = [
        (where, secret[:6] + "...")
        for where, text in written.items()
        for secret in secrets
        if secret in text
    ]
    assert not leaks, f"written in clear: {leaks}"


def _first_admin_logs_in(ports: dict[str, int]) -> str:
    """README's first step: the first admin made on the command line logs in, and the
    token is good at identity (no default admin exists)."""
    password = ADMIN_PASSWORD
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
