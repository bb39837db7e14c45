"""Meta Graph API error envelopes, shaped like the real ones: clients branch on ``code``,
so the fake answers Meta's codes, subcodes and HTTP statuses."""

from __future__ import annotations

import secrets
from typing import Any

from fastapi.responses import JSONResponse

CODE_INVALID_PARAMETER = 100
CODE_ACCESS_TOKEN = 190
CODE_RATE_LIMIT = 130429
CODE_PARAMETER_VALUE = 131009
CODE_REENGAGEMENT = 131047
CODE_SPAM_RATE_LIMIT = 131048
CODE_MARKETING_PER_USER_LIMIT = 131049
CODE_MARKETING_OPT_OUT = 131050
CODE_PAIR_RATE_LIMIT = 131056
CODE_TEMPLATE_PARAM_COUNT = 132000
CODE_TEMPLATE_MISSING = 132001
CODE_TEMPLATE_PAUSED = 132015
CODE_TEMPLATE_DISABLED = 132016
CODE_UNKNOWN = 1
CODE_SERVICE_UNAVAILABLE = 2
SUBCODE_TOKEN_EXPIRED = 463
SUBCODE_TOKEN_INVALID = 467
SUBCODE_OBJECT_MISSING = 33


class GraphError(Exception):
    """An error the fake Graph API answers with, as Meta would."""

    def __init__(
        self,
        status: int,
        code: int,
        message: str,
        *,
        subcode: int | None = None,
        details: str | None = None,
        is_transient: bool | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.subcode = subcode
        self.details = details
        self.is_transient = is_transient
        self.headers = headers or {}

    def envelope(self) -> dict[str, Any]:
        error: dict[str, Any] = {
            "message": self.message,
            "type": "OAuthException",
            "code": self.code,
        }
        if self.subcode is not None:
            error["error_subcode"] = self.subcode
        if self.is_transient is not None:
            error["is_transient"] = self.is_transient
        if self.details is not None:
            error["error_data"] = {"messaging_product": "whatsapp", "details": self.details}
        error["fbtrace_id"] = fbtrace_id()
        return {"error": error}

    def response(self) -> JSONResponse:
        return JSONResponse(self.envelope(), status_code=self.status, headers=self.headers)


def fbtrace_id() -> str:
    """A random id shaped like Meta's ``fbtrace_id`` (support reference)."""
    return secrets.token_urlsafe(20)[:27]


def missing_token() -> GraphError:
    return GraphError(
        401,
        CODE_ACCESS_TOKEN,
        "An active access token must be used to query information about the current user.",
        subcode=SUBCODE_TOKEN_INVALID,
    )


def invalid_token() -> GraphError:
    return GraphError(
        401,
        CODE_ACCESS_TOKEN,
        "Invalid OAuth access token - Cannot parse access token",
        subcode=SUBCODE_TOKEN_INVALID,
    )


def expired_token() -> GraphError:
    return GraphError(
        401,
        CODE_ACCESS_TOKEN,
        "Error validating access token: Session has expired.",
        subcode=SUBCODE_TOKEN_EXPIRED,
    )


def unknown_object(object_id: str, method: str = "post") -> GraphError:
    """An id the token may not act on, or that does not exist (Meta cannot tell them
    apart either); ``method``: the request's, as Meta names it (``post``, ``get``)."""
    return GraphError(
        400,
        CODE_INVALID_PARAMETER,
        f"Unsupported {method} request. Object with ID '{object_id}' does not exist, cannot be "
        "loaded due to missing permissions, or does not support this operation.",
        subcode=SUBCODE_OBJECT_MISSING,
    )


def invalid_parameter(details: str) -> GraphError:
    return GraphError(400, CODE_INVALID_PARAMETER, "(#100) Invalid parameter", details=details)


def rate_limited(retry_after_s: int) -> GraphError:
    return GraphError(
        429,
        CODE_RATE_LIMIT,
        "(#130429) Rate limit hit",
        details="Cloud API message throughput has been reached.",
        headers={"Retry-After": str(retry_after_s)},
    )


def server_error(status: int) -> GraphError:
    if status == 503:
        return GraphError(
            503, CODE_SERVICE_UNAVAILABLE, "Service temporarily unavailable", is_transient=True
        )
    return GraphError(status, CODE_UNKNOWN, "An unknown error has occurred.", is_transient=True)


def parameter_value_invalid(details: str) -> GraphError:
    """A well-formed field whose value breaks one of Meta's limits (length, count, range)."""
    return GraphError(
        400, CODE_PARAMETER_VALUE, "(#131009) Parameter value is not valid", details=details
    )


def template_missing(name: str, language: str) -> GraphError:
    return GraphError(
        404,
        CODE_TEMPLATE_MISSING,
        "(#132001) Template name does not exist in the translation",
        details=f"template name ({name}) does not exist in {language}",
    )


def template_param_count(component: str, given: int, expected: int) -> GraphError:
    return GraphError(
        400,
        CODE_TEMPLATE_PARAM_COUNT,
        "(#132000) Number of parameters does not match the expected number of params",
        details=f"{component}: number of localizable_params ({given}) does not match the "
        f"expected number of params ({expected})",
    )


def outside_service_window() -> GraphError:
    return GraphError(
        400,
        CODE_REENGAGEMENT,
        "(#131047) Re-engagement message",
        details="Message failed to send because more than 24 hours have passed since the "
        "customer last replied to this number.",
    )


def template_paused() -> GraphError:
    return GraphError(
        400,
        CODE_TEMPLATE_PAUSED,
        "(#132015) Template is Paused",
        details="Template is paused due to low quality so it cannot be sent in a template message.",
    )


def template_disabled() -> GraphError:
    return GraphError(
        400,
        CODE_TEMPLATE_DISABLED,
        "(#132016) Template is Disabled",
        details="Template has been paused too many times due to low quality and is now "
        "permanently disabled.",
    )


#: Refusals of one send that a fault can make the Graph fake answer (Meta's title and
#: ``error_data.details`` for each; all HTTP 400, per Meta's error-code reference).
RECIPIENT_REFUSALS: dict[int, tuple[str, str]] = {
    CODE_SPAM_RATE_LIMIT: (
        "Spam rate limit hit",
        "Message failed to send because there are restrictions on how many messages can be "
        "sent from this phone number. This may be because too many previous messages were "
        "blocked or flagged as spam.",
    ),
    CODE_MARKETING_PER_USER_LIMIT: (
        "This message was not delivered to maintain healthy ecosystem engagement.",
        "In order to maintain a healthy ecosystem engagement, the message failed to be delivered.",
    ),
    CODE_MARKETING_OPT_OUT: (
        "Unable to deliver the message. This recipient has chosen to stop receiving "
        "marketing messages on WhatsApp from your business.",
        "This recipient has chosen to stop receiving marketing messages on WhatsApp from "
        "your business.",
    ),
    CODE_PAIR_RATE_LIMIT: (
        "(Business Account, Consumer Account) pair rate limit hit",
        "Message failed to send because there were too many messages sent from this phone "
        "number to the same phone number in a short period of time.",
    ),
}


def recipient_refusal(code: int) -> GraphError:
    """Meta's refusal ``code`` (one of :data:`RECIPIENT_REFUSALS`) for one send."""
    title, details = RECIPIENT_REFUSALS[code]
    return GraphError(400, code, f"(#{code}) {title}", details=details)
