"""Hostile input with valid credentials: every webhook route, fuzzed, against a real gateway.

A channel that signs correctly can still send anything. Each route gets deliveries built
from the real payload shapes (the parsers' fixtures, taken from the providers' documents
and the seeds), mutated by hypothesis: a value anywhere replaced by something hostile
(10,000-character ids, deep nesting, huge numbers, NaN, operators such as ``{"$gt": ""}``,
path traversal, control characters), a key removed, the bytes truncated or spliced, the
body compressed, the content type wrong. Every one is signed, keyed or tokened as the
channel would, and posted over HTTP to ``python -m cauce_gateway`` (a real process on a
real nats-server).

What must hold for every delivery: an answer within the client's timeout, never a 5xx;
a refusal is a 4xx problem+json; an acceptance is JSON. At the end the process is
still alive and ready. ``CAUCE_FUZZ_EXAMPLES`` sets the examples per route (CI's
default is bounded; set it higher to run in full locally).
"""

from __future__ import annotations

import asyncio
import copy
import gzip
import json
import os
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from cauce_devstack.pytest_plugin import start_nats
from cauce_devstack.sandbox.meta import webhooks as meta
from cauce_devstack.servers import free_port
from cauce_devstack.testing import ServiceProcess
from cauce_gateway.authenticity.sci_signature import sci_signature
from cauce_gateway.authenticity.ycloud_signature import ycloud_signature

FIXTURES = Path(__file__).resolve().parent.parent / "parsing" / "fixtures"
EXAMPLES = int(os.environ.get("CAUCE_FUZZ_EXAMPLES", "60"))
APP_SECRET = "fuzz-meta-app-secret"
YCLOUD_SECRET = "whsec_fuzz_ycloud_secret"
CHATTIGO_TOKEN = "ct_" + "FuzzT" * 8
MANYCHAT_KEY = "mc-fuzz-key-0123456789abcdef"
SCI_SECRET = "sci-fuzz-secret-0123456789abcdef"
ODOO_TOKEN = "odoo_" + "FuzzO" * 8
TENANT = "fuzz"

Json = Any


def _fixtures(channel: str) -> list[Json]:
    return [json.loads(p.read_bytes()) for p in sorted((FIXTURES / channel).glob("*.json"))]


META_DOCS = _fixtures("meta")
YCLOUD_DOCS = _fixtures("ycloud")
CHATTIGO_DOCS = _fixtures("chattigo")
MANYCHAT_CONTACT = {
    "manychat_id": "fuzz_contact_1",
    "nombre_lead": "Fuzz Lead",
    "datetime_actual": "2025-06-05T12:41:36Z",
    "ultimo_estado": "Nuevo",
    "phone": "+56912345678",
    "email": "fuzz@example.com",
}
MANYCHAT_ASSIGNMENT = {
    "manychat_id": "fuzz_contact_1",
    "campaign_id": "CAMP-FUZZ-1",
    "comercial_id": "COM-FUZZ-1",
    "datetime_actual": "2025-06-05T12:45:00Z",
    "ultimo_estado": "Asignado",
    "tipo_asignacion": "Automatica",
}
SCI_NOTE = {"transactionId": "40037", "status": "APROBADA", "amount": 954688}
ODOO_CHANGE = {"_model": "manychat.contact", "_id": 7, "x_ultimo_estado": "Cliente"}

# --- what a hostile but authentic channel sends ---------------------------------------

_scalars = (
    st.none()
    | st.booleans()
    | st.integers(min_value=-(10**40), max_value=10**40)
    | st.floats(allow_nan=True, allow_infinity=True)
    | st.text(max_size=40)
    | st.text(min_size=257, max_size=12_000)  # longer than any id the contracts take
    | st.sampled_from(
        [
            "",
            "../../../../etc/passwd",
            "..\\..\\windows\\win.ini",
            "'; DROP TABLE contacts; --",
            "\x00\x01\u202e\ufeff",
            "a\r\nX-Injected: 1",
            "573001234567" * 50,
            "wamid." + "A" * 5000,
        ]
    )
)
_operators = st.sampled_from(
    [{"$gt": ""}, {"$ne": None}, {"$where": "sleep(1000)"}, {"$regex": ".*"}, ["$in", []]]
)
hostile_values = st.recursive(
    _scalars | _operators,
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=12), inner, max_size=4)
    ),
    max_leaves=12,
)
CONTENT_TYPES = ["application/json", "text/plain", "application/x-www-form-urlencoded", ""]


def _paths(doc: Json, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    """Every key path into ``doc`` (the root excluded)."""
    found: list[tuple[Any, ...]] = []
    children = (
        doc.items() if isinstance(doc, dict) else enumerate(doc) if isinstance(doc, list) else ()
    )
    for key, value in children:
        found.append((*prefix, key))
        found += _paths(value, (*prefix, key))
    return found


def _replaced(doc: Json, path: tuple[Any, ...], value: Json) -> Json:
    copied = copy.deepcopy(doc)
    node = copied
    for key in path[:-1]:
        node = node[key]
    node[path[-1]] = value
    return copied


def _removed(doc: Json, path: tuple[Any, ...]) -> Json:
    copied = copy.deepcopy(doc)
    node = copied
    for key in path[:-1]:
        node = node[key]
    del node[path[-1]]
    return copied


def _encode(doc: Json) -> bytes:
    return json.dumps(doc, allow_nan=True).encode()


@st.composite
def deliveries(draw: st.DrawFn, docs: list[Json]) -> tuple[bytes, str, bool]:
    """``(body, content type, gzip header)``: one real document, mutated one way."""
    doc = draw(st.sampled_from(docs))
    paths = _paths(doc)
    raw = _encode(doc)
    how = draw(
        st.sampled_from(["replace", "remove", "truncate", "splice", "nest", "gzip", "as is"])
    )
    if how == "replace" and paths:
        body = _encode(_replaced(doc, draw(st.sampled_from(paths)), draw(hostile_values)))
    elif how == "remove" and paths:
        body = _encode(_removed(doc, draw(st.sampled_from(paths))))
    elif how == "truncate":
        body = raw[: draw(st.integers(0, len(raw)))]
    elif how == "splice":
        at = draw(st.integers(0, len(raw)))
        body = raw[:at] + draw(st.binary(min_size=1, max_size=24)) + raw[at:]
    elif how == "nest":
        depth = draw(st.sampled_from([50, 1_000, 100_000]))
        body = b'{"entry":' + b"[" * depth + b"]" * depth + b"}"
    elif how == "gzip":
        body = gzip.compress(raw)
    else:
        body = raw
    return body, draw(st.sampled_from(CONTENT_TYPES)), how == "gzip" and draw(st.booleans())


# --- the gateway under test --------------------------------------------------------------


@dataclass(frozen=True)
class Target:
    url: str
    process: ServiceProcess


def _accounts() -> dict[str, str]:
    numbers = {
        change["value"]["metadata"]["phone_number_id"]
        for doc in META_DOCS
        for entry in doc.get("entry", [])
        for change in entry.get("changes", [])
        if isinstance(change.get("value", {}).get("metadata"), dict)
    }
    ycloud_numbers = {
        doc.get("whatsappInboundMessage", doc.get("whatsappMessage", {})).get(key)
        for doc in YCLOUD_DOCS
        for key in ("to", "from")
    } - {None}
    return {
        "CAUCE_WHATSAPP_ACCOUNTS": json.dumps(
            [{"account_id": n, "tenant_id": TENANT} for n in sorted(numbers)]
        ),
        "CAUCE_YCLOUD_ACCOUNTS": json.dumps(
            [{"account_id": n, "tenant_id": TENANT} for n in sorted(ycloud_numbers)]
        ),
    }


@pytest.fixture(scope="module")
def target(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Target]:
    workdir = tmp_path_factory.mktemp("hostile")
    nats = start_nats(workdir / "nats")
    port = free_port()
    env = {
        "CAUCE_ENVIRONMENT": "test",
        "CAUCE_PORT": str(port),
        "CAUCE_NATS_URL": nats.url,
        "CAUCE_SPAN_FILE": str(workdir / "spans.jsonl"),
        "CAUCE_LOG_LEVEL": "WARNING",
        "CAUCE_META_APP_SECRETS": json.dumps([APP_SECRET]),
        "CAUCE_YCLOUD_WEBHOOK_SECRETS": json.dumps([YCLOUD_SECRET]),
        "CAUCE_CHATTIGO_ACCOUNTS": json.dumps(
            [{"account_id": "573105550100", "tenant_id": TENANT, "url_token": CHATTIGO_TOKEN}]
        ),
        "CAUCE_MANYCHAT_TENANTS": json.dumps([{"tenant_id": TENANT, "api_key": MANYCHAT_KEY}]),
        "CAUCE_SCI_TENANTS": json.dumps([{"tenant_id": TENANT, "webhook_secret": SCI_SECRET}]),
        "CAUCE_ODOO_WEBHOOK_TENANTS": json.dumps([{"tenant_id": TENANT, "url_token": ODOO_TOKEN}]),
        **_accounts(),
    }
    process = ServiceProcess("cauce_gateway", env, port, workdir, "gateway")
    try:
        asyncio.run(process.wait_ready())
        yield Target(process.url, process)
    finally:
        process.kill()
        nats.stop()


Signer = Callable[[bytes], dict[str, str]]


@dataclass(frozen=True)
class Route:
    path: str
    docs: list[Json]
    sign: Signer


def _meta(body: bytes) -> dict[str, str]:
    return {meta.SIGNATURE_HEADER: meta.sign(body, APP_SECRET)}


def _ycloud(body: bytes) -> dict[str, str]:
    return {"YCloud-Signature": ycloud_signature(body, YCLOUD_SECRET.encode(), int(time.time()))}


def _sci(body: bytes) -> dict[str, str]:
    return {"X-SCI-Signature": sci_signature(body, SCI_SECRET.encode(), int(time.time()))}


def _manychat(body: bytes) -> dict[str, str]:
    return {"X-API-KEY": MANYCHAT_KEY}


def _nothing(body: bytes) -> dict[str, str]:
    return {}


ROUTES = {
    "whatsapp": Route("/webhooks/whatsapp", META_DOCS, _meta),
    "whatsapp, vehicle-debt bot's URL": Route("/api/webhookMeta/webhookMessage", META_DOCS, _meta),
    "whatsapp, campaigns' URL": Route("/api/v1/webhooks/whatsapp", META_DOCS, _meta),
    "ycloud": Route("/webhooks/ycloud", YCLOUD_DOCS, _ycloud),
    "ycloud, inbox's URL": Route("/api/webhooks/ycloud", YCLOUD_DOCS, _ycloud),
    "chattigo": Route(
        f"/webhooks/chattigo/{CHATTIGO_TOKEN}", CHATTIGO_DOCS + META_DOCS[:3], _nothing
    ),
    "chattigo, integration's URL": Route(
        f"/api/v1/webhook?token={CHATTIGO_TOKEN}", CHATTIGO_DOCS, _nothing
    ),
    "manychat contact": Route("/webhooks/manychat/contact", [MANYCHAT_CONTACT], _manychat),
    "manychat assignment": Route(
        "/webhooks/manychat/campaign-assignment", [MANYCHAT_ASSIGNMENT], _manychat
    ),
    "manychat contact, sync's URL": Route(
        "/api/v1/manychat/webhook/contact", [MANYCHAT_CONTACT], _manychat
    ),
    "sci": Route("/webhooks/sci", [SCI_NOTE], _sci),
    "odoo": Route(f"/webhooks/odoo/{ODOO_TOKEN}", [ODOO_CHANGE], _nothing),
}


def assert_answered_well(response: httpx.Response) -> None:
    """Never a 5xx; a refusal is problem+json naming its status; an acceptance is JSON."""
    status = response.status_code
    assert status < 500, f"{status}: {response.text[:500]}"
    if status >= 400:
        assert response.headers["content-type"].startswith("application/problem+json"), status
        assert response.json()["status"] == status
    else:
        assert status in (200, 202), status
        assert isinstance(response.json(), dict)


@pytest.mark.parametrize("name", list(ROUTES))
def test_signed_hostile_deliveries_never_break_the_gateway(target: Target, name: str) -> None:
    route = ROUTES[name]
    log_before = target.process.log_file.read_text(errors="replace")

    @settings(
        max_examples=EXAMPLES,
        deadline=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
        database=None,
    )
    @given(delivery=deliveries(route.docs))
    def post(delivery: tuple[bytes, str, bool]) -> None:
        body, content_type, gzipped = delivery
        headers = {**route.sign(body)}
        if content_type:
            headers["Content-Type"] = content_type
        if gzipped:
            headers["Content-Encoding"] = "gzip"
        with httpx.Client(base_url=target.url, timeout=15.0) as client:
            assert_answered_well(client.post(route.path, content=body, headers=headers))

    post()
    logged = target.process.log_file.read_text(errors="replace")[len(log_before) :]
    assert "Traceback" not in logged, logged[-3000:]


def test_a_thousand_statuses_are_one_answer(target: Target) -> None:
    number = META_DOCS[0]["entry"][0]["changes"][0]["value"]["metadata"]["phone_number_id"]
    statuses = [
        meta.status(f"wamid.fuzzbatch{i:05d}", "delivered", str(573000000000 + i))
        for i in range(1000)
    ]
    body = meta.encode(meta.webhook([meta.statuses_value(number, "1", statuses)], "1"))
    with httpx.Client(base_url=target.url, timeout=15.0) as client:
        response = client.post("/webhooks/whatsapp", content=body, headers=_meta(body))
    assert response.status_code == 200
    assert response.json() == {"status": "accepted", "events": 1000}


def test_the_gateway_is_still_alive_and_ready(target: Target) -> None:
    with httpx.Client(base_url=target.url, timeout=5.0) as client:
        assert client.get("/readyz").status_code == 200
