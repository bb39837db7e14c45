"""The gateway's answers, and the errors every webhook route maps to a status.

A handler answers with an :class:`Answer` (status, bytes, media type, headers): the
webhook lane writes it to ASGI directly, a FastAPI route returns ``answer.response()``.
The refusals (bad signature, too large, bus down) map to the same problem+json either
way, through :func:`refusal_answer`.
"""

from __future__ import annotations

from dataclasses import dataclass

from fastapi import FastAPI, Request
from fastapi.responses import Response

from cauce_gateway.authenticity import NotAuthentic
from cauce_gateway.gateway import Gateway
from cauce_gateway.request_body import BodyTooLarge
from cauce_runtime import PROBLEM_TYPE_BASE, BusUnavailable, problem_response, wiring_of
from cauce_runtime.web import PROBLEM_JSON

#: What a webhook route turns into a 4xx/503 answer instead of a server error.
REFUSALS = (NotAuthentic, BodyTooLarge, BusUnavailable)


@dataclass(frozen=True, slots=True)
class Answer:
    status: int
    body: bytes
    media_type: str = "application/json"
    headers: tuple[tuple[str, str], ...] = ()

    def response(self) -> Response:
        return Response(self.body, self.status, dict(self.headers), media_type=self.media_type)


def accepted(events: int, status_code: int = 200) -> Answer:
    return Answer(status_code, b'{"status":"accepted","events":%d}' % events)


def problem_answer(
    status: int, title: str, detail: str, type_: str, headers: tuple[tuple[str, str], ...] = ()
) -> Answer:
    """:func:`cauce_runtime.problem_response` as an :class:`Answer` (one problem+json
    shape for every service)."""
    response = problem_response(status, title, detail, type_, headers=dict(headers) or None)
    return Answer(status, bytes(response.body), PROBLEM_JSON, headers)


def refusal_answer(exc: Exception, retry_after_s: int | float) -> Answer:
    """The answer to one of :data:`REFUSALS`."""
    if isinstance(exc, NotAuthentic):
        return problem_answer(
            401,
            "Not authenticated",
            str(exc),
            PROBLEM_TYPE_BASE + "not-authentic",
            (("WWW-Authenticate", "Signature"),),
        )
    if isinstance(exc, BodyTooLarge):
        return problem_answer(
            413, "Payload too large", str(exc), PROBLEM_TYPE_BASE + "payload-too-large"
        )
    if isinstance(exc, BusUnavailable):
        return problem_answer(
            503,
            "Event bus unavailable",
            "the event could not be made durable; retry later",
            PROBLEM_TYPE_BASE + "bus-unavailable",
            (("Retry-After", str(retry_after_s)),),
        )
    raise TypeError(f"not a refusal: {type(exc).__name__}") from exc


async def _refused(request: Request, exc: Exception) -> Response:
    settings = wiring_of(request.app, Gateway).settings
    return refusal_answer(exc, settings.retry_after_s).response()


def install_webhook_error_handlers(app: FastAPI) -> None:
    for refusal in REFUSALS:
        app.add_exception_handler(refusal, _refused)
