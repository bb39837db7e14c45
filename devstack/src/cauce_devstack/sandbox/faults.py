"""Fault injection: armed faults that the next matching requests to a fake consume, so a
test can make a provider slow, throttled, failing or silent exactly when it wants.
"""

from __future__ import annotations

import asyncio
import itertools
from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal

from fastapi import APIRouter, Response
from pydantic import BaseModel, Field, model_validator

from cauce_devstack.sandbox.bootstrap import SandboxDep

FaultTarget = Literal["graph", "sci", "odoo", "chattigo", "ycloud", "gemini", "openai"]
FaultKind = Literal[
    "latency",
    "429",
    "5xx",
    "token_expired",
    "drop",
    "refusal",
    "malformed",
    "slow_answer",
    "answer_lost",
]
#: Kinds that take the send first (Meta has the message) and only then fail the answer.
AFTER_ACCEPT: frozenset[str] = frozenset({"slow_answer", "answer_lost"})


class FaultSpec(BaseModel):
    target: FaultTarget = "graph"
    kind: FaultKind
    count: int = Field(default=1, ge=1, le=100_000)
    latency_ms: int = Field(default=1000, ge=0, le=120_000)
    retry_after: int = Field(default=1, ge=0, le=3600)
    status: int = Field(default=500, ge=500, le=599)
    phone_number_id: str | None = None
    """Only requests for this business number (``graph``); ``None`` matches all."""
    code: int | None = None
    """``refusal``: the Meta error code the send gets (131049, 131056, 131048, 131050)."""
    recipient: str | None = Field(default=None, pattern=r"^\+?[0-9 ()\-]{5,30}$")
    """``refusal``: only sends to this customer (a phone number or wa_id)."""

    @model_validator(mode="after")
    def _refusal_fields(self) -> FaultSpec:
        # Here, not at the top: the Meta fake imports this module.
        from cauce_devstack.sandbox.meta.errors import RECIPIENT_REFUSALS

        if self.kind == "refusal":
            if self.target != "graph":
                raise ValueError("a refusal fault is for the graph target only")
            if self.code not in RECIPIENT_REFUSALS:
                codes = ", ".join(str(code) for code in RECIPIENT_REFUSALS)
                raise ValueError(f"a refusal fault needs a code, one of {codes}")
            if self.recipient is not None:
                self.recipient = _digits(self.recipient)
        elif self.kind in AFTER_ACCEPT and self.target != "graph":
            raise ValueError(f"a {self.kind} fault is for the graph target only")
        elif self.kind == "malformed" and self.target not in ("gemini", "openai"):
            raise ValueError("a malformed fault is for the model fakes only (gemini, openai)")
        elif self.code is not None or self.recipient is not None:
            raise ValueError("code and recipient are for refusal faults only")
        return self


def _digits(phone: str) -> str:
    return "".join(c for c in phone if c.isdigit())


class Fault(FaultSpec):
    id: int
    remaining: int


class FaultBook:
    """Armed faults, consumed first-armed-first by matching requests."""

    def __init__(self) -> None:
        self._faults: list[Fault] = []
        self._ids = itertools.count(1)

    def add(self, spec: FaultSpec) -> Fault:
        fault = Fault(id=next(self._ids), remaining=spec.count, **spec.model_dump())
        self._faults.append(fault)
        return fault

    def take(
        self,
        target: FaultTarget,
        phone_number_id: str | None = None,
        recipient: str | None = None,
    ) -> Fault | None:
        """Consume one use of the oldest fault matching this request, if any: with a
        ``recipient`` (a send Meta's rules let through), only ``refusal`` faults for it
        or for anyone; without one, every other kind."""
        for fault in self._faults:
            if (fault.kind == "refusal") != (recipient is not None):
                continue
            if recipient is not None and fault.recipient not in (None, _digits(recipient)):
                continue
            if fault.target == target and fault.phone_number_id in (None, phone_number_id):
                fault.remaining -= 1
                if fault.remaining <= 0:
                    self._faults.remove(fault)
                return fault
        return None

    def list(self) -> list[Fault]:
        return list(self._faults)

    def clear(self) -> int:
        count = len(self._faults)
        self._faults.clear()
        return count


@dataclass(frozen=True)
class FaultAnswers:
    """How one fake answers the failing faults, in its provider's own shapes."""

    #: ``429`` with the fault's ``retry_after`` (seconds).
    too_many: Callable[[int], Response]
    #: ``5xx`` with the fault's HTTP ``status``.
    server_error: Callable[[int], Response]
    #: ``token_expired``: the provider's refusal of an expired token.
    expired: Callable[[], Response]


async def fault_answer(fault: Fault, answers: FaultAnswers, drop_hold_s: float) -> Response | None:
    """The answer an armed fault stands for (``None``: latency only, carry on); a
    ``drop`` hangs ``drop_hold_s`` and answers an empty 504."""
    if fault.kind == "latency":
        await asyncio.sleep(fault.latency_ms / 1000)
        return None
    if fault.kind == "429":
        return answers.too_many(fault.retry_after)
    if fault.kind == "5xx":
        return answers.server_error(fault.status)
    if fault.kind == "token_expired":
        return answers.expired()
    await asyncio.sleep(drop_hold_s)
    return Response(status_code=504)


router = APIRouter(prefix="/sandbox/faults", tags=["sandbox"])


@router.post("", response_model=Fault, status_code=201)
async def arm_fault(spec: FaultSpec, sandbox: SandboxDep) -> Fault:
    """Arm a fault for the next ``count`` requests to the ``target`` fake (``graph``,
    the default, optionally one ``phone_number_id``; ``sci``; ``odoo``), each answered
    in that provider's own error shape:

    - ``latency``: wait ``latency_ms``, then answer normally.
    - ``429``: the provider's throttling answer with ``Retry-After: retry_after`` (Graph:
      code 130429).
    - ``5xx``: a transient server error with HTTP ``status`` (Graph: 500 -> code 1,
      503 -> code 2).
    - ``token_expired``: the provider's expired-credentials answer, whatever token was
      sent (Graph: 401, code 190, subcode 463).
    - ``drop``: the request hangs without an answer for ``CAUCE_SANDBOX_DROP_HOLD_S``
      (default 60 s, past any sane client timeout), then gets an empty 504, never
      recorded as accepted. It hangs rather than resets the connection because ASGI servers offer no
      portable way to abort a socket; to the client it is the same read timeout.
    - ``refusal`` (``graph`` only): the next ``count`` sends that pass Meta's token,
      payload, template and window checks (to ``recipient`` only, when given) get Meta's
      error ``code`` instead of being accepted, with Meta's HTTP status (400), message
      and ``error_data.details``: 131049 (the per-user marketing limit, "This message
      was not delivered to maintain healthy ecosystem engagement."), 131056 (the
      business/customer pair rate limit), 131048 (spam rate limit), 131050 (the
      customer stopped marketing messages). Mark-as-read requests do not consume them.
    - ``slow_answer`` (``graph`` only): the send is taken (recorded in the outbox, its
      statuses follow) and answered ``latency_ms`` later: a client that dies meanwhile
      never learns that Meta has the message.
    - ``answer_lost`` (``graph`` only): the send is taken, but the answer hangs like
      ``drop``'s: the client's read times out although Meta has the message (its status
      webhooks, carrying the send's ``biz_opaque_callback_data``, still come).

    - ``malformed`` (``gemini``, ``openai`` only): the model answers text that is not
      the JSON asked for.

    Model faults (``gemini``, ``openai``) apply to generation calls, before the key
    check, in each API's error shape.

    Chattigo and YCloud faults apply to their sends (Chattigo: a 401 on
    ``token_expired``, after which the client logs in again; YCloud: 401
    ``UNAUTHORIZED``), in their own error shapes.

    SCI faults apply to the two ``/sci/TotalApp/...`` calls (not to the login nor the
    payment page); Odoo faults to business calls (JSON-RPC ``object.*`` and JSON-2),
    after the rate limit: ``429`` and ``5xx`` as a proxy answers them, ``token_expired``
    as ``odoo.http.SessionExpiredException`` or a JSON-2 401.
    """
    return sandbox.faults.add(spec)


@router.get("", response_model=list[Fault])
async def list_faults(sandbox: SandboxDep) -> list[Fault]:
    return sandbox.faults.list()


@router.delete("")
async def clear_faults(sandbox: SandboxDep) -> dict[str, int]:
    return {"deleted": sandbox.faults.clear()}
