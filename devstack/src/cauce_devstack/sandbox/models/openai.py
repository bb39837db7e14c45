"""An OpenAI-compatible ``POST /v1/chat/completions``: OpenAI's (``/openai/v1``, bearer
key) and a local model server's (``/local-llm/v1``, no key)."""

from __future__ import annotations

import hmac
import json
import secrets
import time

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, Response

from cauce_devstack.sandbox.bootstrap import Sandbox, SandboxDep
from cauce_devstack.sandbox.models.answers import fill, tokens
from cauce_devstack.sandbox.models.faults import fault_response

router = APIRouter(prefix="/openai/v1", tags=["models"])
local_router = APIRouter(prefix="/local-llm/v1", tags=["models"])


def _error(status: int, message: str, kind: str, code: str | None) -> JSONResponse:
    return JSONResponse(
        {"error": {"message": message, "type": kind, "param": None, "code": code}},
        status_code=status,
    )


def _key_ok(request: Request, sandbox: Sandbox) -> bool:
    scheme, _, key = request.headers.get("authorization", "").partition(" ")
    return scheme.lower() == "bearer" and any(
        hmac.compare_digest(key.encode(), known.get_secret_value().encode())
        for known in sandbox.settings.openai_api_keys
    )


@router.post("/chat/completions")
async def chat_completions(request: Request, sandbox: SandboxDep) -> Response:
    """``model``, ``messages``, ``response_format`` (``json_schema``); answers
    ``choices[0].message.content`` and ``usage``. A missing or unknown bearer key is
    401 ``invalid_api_key``."""
    return await _complete(request, sandbox, key_required=True)


@local_router.post("/chat/completions")
async def local_chat_completions(request: Request, sandbox: SandboxDep) -> Response:
    """The same API as a local model server gives it: no key."""
    return await _complete(request, sandbox, key_required=False)


async def _complete(request: Request, sandbox: Sandbox, *, key_required: bool) -> Response:
    fault = sandbox.faults.take("openai")
    if fault is not None and fault.kind != "malformed":
        refused = await fault_response(fault, sandbox, _openai_error)
        if refused is not None:
            return refused
    if key_required and not _key_ok(request, sandbox):
        return _error(
            401, "Incorrect API key provided.", "invalid_request_error", "invalid_api_key"
        )
    try:
        body = json.loads(await request.body())
    except ValueError:
        return _error(
            400, "We could not parse the JSON body of your request.", "invalid_request_error", None
        )
    messages = body.get("messages") if isinstance(body, dict) else None
    if not isinstance(messages, list) or not messages or not body.get("model"):
        return _error(400, "'messages' and 'model' are required.", "invalid_request_error", None)
    said = " ".join(str(m.get("content", "")) for m in messages if isinstance(m, dict))
    transcript = " ".join(
        str(m.get("content", ""))
        for m in messages
        if isinstance(m, dict) and m.get("role") == "user"
    )
    schema = (body.get("response_format") or {}).get("json_schema", {}).get("schema") or {
        "type": "string"
    }
    answer = (
        "this is not JSON"
        if fault is not None
        else json.dumps(fill(schema, transcript), ensure_ascii=False)
    )
    sandbox.outbox.record(
        provider="openai",
        kind="completion",
        phone_number_id=str(body["model"]),
        type="chat.completion",
        message_id="",
        payload=body,
    )
    prompt, completion = tokens(said), tokens(answer)
    return JSONResponse(
        {
            "id": f"chatcmpl-{secrets.token_hex(12)}",
            "object": "chat.completion",
            "created": int(time.time()),
            "model": body["model"],
            "choices": [
                {
                    "index": 0,
                    "message": {"role": "assistant", "content": answer},
                    "finish_reason": "stop",
                }
            ],
            "usage": {
                "prompt_tokens": prompt,
                "completion_tokens": completion,
                "total_tokens": prompt + completion,
            },
        }
    )


def _openai_error(status: int, retry_after: int | None) -> JSONResponse:
    if status == 401:
        return _error(
            401, "Incorrect API key provided.", "invalid_request_error", "invalid_api_key"
        )
    if status == 429:
        response = _error(
            429, "Rate limit reached for requests.", "requests", "rate_limit_exceeded"
        )
        if retry_after is not None:
            response.headers["Retry-After"] = str(retry_after)
        return response
    return _error(
        status, "The server had an error while processing your request.", "server_error", None
    )
