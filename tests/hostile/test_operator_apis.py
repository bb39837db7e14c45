"""Every operator API, run through its own OpenAPI document against `make run`'s stack.

schemathesis generates requests from each service's ``/openapi.json`` (conversation,
notifier, payments, crm-sync, identity; the console documents no API of its own: its
pages call these) and sends them to the real services of
a launched stack (NATS, PostgreSQL, the MongoDB stand-in, the sandbox):

- with a company admin's real access token: no answer is a server error;
- with no token, an expired one (signed with the stack's own key) or a forged one
  (right claims, another key): only 401, 403 or 404, never data;
- with another company's admin token: no server error either (which company's data a
  token reaches is proven per route by the company-matrix tests).

The public routes (probes, docs, webhooks, login, signed links) are left to their own
suites. ``CAUCE_API_FUZZ_EXAMPLES`` sets the examples per operation with a token.
"""

from __future__ import annotations

import os
import re
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import jwt
import pytest
import schemathesis
from cryptography.hazmat.primitives.serialization import load_pem_private_key
from hypothesis import HealthCheck, given, settings

from cauce_contracts.identity import TOKEN_ALGORITHM, TOKEN_AUDIENCE, TOKEN_ISSUER
from cauce_devstack.minted_tokens import TokenMinter
from cauce_devstack.stack import DEV_TENANT
from cauce_devstack.testing import create_admin, free_ports, launched

from ..identity.test_every_operator_route_is_guarded import OPS, PUBLIC

EXAMPLES = int(os.environ.get("CAUCE_API_FUZZ_EXAMPLES", "3"))
SERVICES = ("conversation", "notifier", "payments", "crm-sync", "identity")
OTHER_COMPANY = "other-co"
PASSWORD = "hostile api suite passphrase"
REFUSED = {401, 403, 404}


@dataclass(frozen=True)
class Stack:
    home: Path
    ports: dict[str, int]
    token: str
    other_token: str

    def url(self, service: str) -> str:
        return f"http://127.0.0.1:{self.ports[service]}"


def _login(ports: dict[str, int], company: str, email: str) -> str:
    create_admin(ports["postgres"], company, email, PASSWORD)
    with httpx.Client(timeout=10) as client:
        login = client.post(
            f"http://127.0.0.1:{ports['identity']}/api/auth/login",
            json={"email": email, "password": PASSWORD},
        )
    assert login.status_code == 200, login.text
    return str(login.json()["access_token"])


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    home = tmp_path_factory.mktemp("operator-apis") / ".cauce"
    ports = free_ports()
    with launched(home, ports) as running:
        running.wait_ready(timeout=150)
        yield Stack(
            home,
            ports,
            _login(ports, DEV_TENANT, "admin@demo.example.com"),
            _login(ports, OTHER_COMPANY, "admin@other.example.com"),
        )


def _expired_token(stack: Stack) -> str:
    """Right issuer, audience, key and kid; expired an hour ago."""
    key = load_pem_private_key((stack.home / "identity" / "signing_key.pem").read_bytes(), None)
    kid = jwt.get_unverified_header(stack.token)["kid"]
    claims = jwt.decode(stack.token, options={"verify_signature": False})
    now = int(time.time())
    claims.update(iat=now - 7200, exp=now - 3600, jti=uuid.uuid4().hex)
    return jwt.encode(claims, key, TOKEN_ALGORITHM, headers={"kid": kid})  # type: ignore[arg-type]


def _forged_token(stack: Stack) -> str:
    """The admin's very claims and kid, signed with a key the stack never published."""
    kid = jwt.get_unverified_header(stack.token)["kid"]
    claims = jwt.decode(stack.token, options={"verify_signature": False})
    assert claims["iss"] == TOKEN_ISSUER and claims["aud"] == TOKEN_AUDIENCE
    forger = TokenMinter(kid=kid)
    return forger.token(claims["cid"], subject=claims["sub"], role=claims["role"])


def _operations(stack: Stack, service: str) -> list[schemathesis.APIOperation]:
    schema = schemathesis.openapi.from_url(f"{stack.url(service)}/openapi.json")
    public = re.compile(f"{OPS}|{PUBLIC.get(service, '(?!)')}")
    operations = []
    for result in schema.get_all_operations():
        operation = result.ok()
        if not public.search(operation.path):
            operations.append(operation)
    assert operations, f"{service} documents no operator route"
    return operations


def _bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def _streams(operation: schemathesis.APIOperation) -> bool:
    """Documented as Server-Sent Events (``cauce_runtime.web.EVENT_STREAM``)."""
    content = operation.definition.raw.get("responses", {}).get("200", {}).get("content", {})
    return "text/event-stream" in content


def _status(case: schemathesis.Case, base: str, headers: dict[str, str]) -> int:
    """The answer's status. An event stream answers its headers, then stays open: its
    status is read and the stream closed, its body never waited for."""
    if not _streams(case.operation):
        return int(case.call(base_url=base, headers=headers, timeout=15).status_code)
    request = case.as_transport_kwargs(base_url=base, headers=headers)
    with httpx.stream(
        request["method"],
        request["url"],
        params=request.get("params"),
        headers=request.get("headers"),
        timeout=15,
    ) as response:
        return response.status_code


def _exercise(
    operation: schemathesis.APIOperation,
    base: str,
    stack: Stack,
    strangers: dict[str, dict[str, str]],
) -> None:
    """Generated requests for one operation: the admin's token on each, the other
    company's and the strangers' once."""
    tried: list[str] = []

    @settings(
        max_examples=EXAMPLES,
        deadline=None,
        database=None,
        suppress_health_check=list(HealthCheck),
    )
    @given(case=operation.as_strategy())
    def call(case: schemathesis.Case) -> None:
        what = f"{case.method} {case.path}"
        own = _status(case, base, _bearer(stack.token))
        assert own < 500, f"{what}: {own}"
        if tried:
            return
        tried.append(what)
        other = _status(case, base, _bearer(stack.other_token))
        assert other < 500, f"other company: {what}: {other}"
        for name, headers in strangers.items():
            refused = _status(case, base, headers)
            assert refused in REFUSED, f"{name}: {what} answered {refused}"

    call()


@pytest.mark.timeout(900)
@pytest.mark.parametrize("service", SERVICES)
def test_operator_apis_answer_every_generated_request(stack: Stack, service: str) -> None:
    base = stack.url(service)
    strangers = {
        "no token": {},
        "expired token": _bearer(_expired_token(stack)),
        "forged token": _bearer(_forged_token(stack)),
    }
    failures: list[str] = []
    for operation in _operations(stack, service):
        try:
            _exercise(operation, base, stack, strangers)
        except Exception as failure:  # hypothesis wraps a failure in a group
            failures.append(f"{operation.method.upper()} {operation.path}: {failure!r}"[:400])
    assert not failures, "\n".join(failures)
