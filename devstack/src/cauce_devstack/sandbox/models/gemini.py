"""Gemini's ``POST /v1beta/models/{model}:generateContent``, as AI assist calls it."""

from __future__ import annotations

import hmac
import json
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, Response

from cauce_devstack.sandbox.bootstrap import Sandbox, SandboxDep
from cauce_devstack.sandbox.models.answers import fill, tokens
from cauce_devstack.sandbox.models.faults import fault_response

router = APIRouter(prefix="/gemini/v1beta", tags=["models"])


def _error(status: int, state: str, message: str, reason: str | None = None) -> JSONResponse:
    body: dict[str, Any] = {"error": {"code": status, "message": message, "status": state}}
    if reason:
        body["error"]["details"] = [
            {
                "@type": "type.googleapis.com/google.rpc.ErrorInfo",
                "reason": reason,
                "domain": "googleapis.com",
            }
        ]
    return JSONResponse(body, status_code=status)


def _key_ok(request: Request, sandbox: Sandbox) -> bool:
    key = request.headers.get("x-goog-api-key") or request.query_params.get("key") or ""
    return bool(key) and any(
        hmac.compare_digest(key.encode(), known.get_secret_value().encode())
        for known in sandbox.settings.gemini_api_keys
    )


def _text_of(body: dict[str, Any]) -> tuple[str, str]:
    instruction = " ".join(
        part.get("text", "") for part in body.get("systemInstruction", {}).get("parts", [])
    )
    said = " ".join(
        part.get("text", "")
        for content in body.get("contents", [])
        for part in content.get("parts", [])
    )
    return instruction, said


@router.post("/models/{model_action}")
async def generate_content(model_action: str, request: Request, sandbox: SandboxDep) -> Response:
    """``models/{model}:generateContent``: ``systemInstruction``, ``contents``,
    ``generationConfig`` (``responseMimeType: application/json`` with a
    ``responseSchema``). Answers ``candidates[0].content.parts[0].text`` and
    ``usageMetadata``; an unknown key is 400 ``INVALID_ARGUMENT`` / ``API_KEY_INVALID``."""
    model, _, action = model_action.partition(":")
    if action != "generateContent":
        return _error(404, "NOT_FOUND", f"Method {action!r} not found.")
    fault = sandbox.faults.take("gemini")
    if fault is not None and fault.kind != "malformed":
        refused = await fault_response(fault, sandbox, _gemini_error)
        if refused is not None:
            return refused
    if not _key_ok(request, sandbox):
        return _error(
            400,
            "INVALID_ARGUMENT",
            "API key not valid. Please pass a valid API key.",
            "API_KEY_INVALID",
        )
    try:
        body = json.loads(await request.body())
    except ValueError:
        return _error(400, "INVALID_ARGUMENT", "Invalid JSON payload received.")
    if not isinstance(body, dict) or not body.get("contents"):
        return _error(
            400, "INVALID_ARGUMENT", "* GenerateContentRequest.contents: contents is not specified"
        )
    instruction, said = _text_of(body)
    schema = body.get("generationConfig", {}).get("responseSchema") or {"type": "STRING"}
    answer = (
        "this is not JSON"
        if fault is not None
        else json.dumps(fill(schema, said), ensure_ascii=False)
    )
    sandbox.outbox.record(
        provider="gemini",
        kind="completion",
        phone_number_id=model,
        type="generateContent",
        message_id="",
        payload=body,
    )
    return JSONResponse(
        {
            "candidates": [
                {
                    "content": {"role": "model", "parts": [{"text": answer}]},
                    "finishReason": "STOP",
                    "index": 0,
                }
            ],
            "usageMetadata": {
                "promptTokenCount": tokens(instruction + " " + said),
                "candidatesTokenCount": tokens(answer),
                "totalTokenCount": tokens(instruction + " " + said) + tokens(answer),
            },
            "modelVersion": model,
        }
    )


def _gemini_error(status: int, retry_after: int | None) -> JSONResponse:
    if status == 401:
        return _error(
            400, "INVALID_ARGUMENT", "API key expired. Please renew the API key.", "API_KEY_INVALID"
        )
    if status == 429:
        response = _error(
            429, "RESOURCE_EXHAUSTED", "Resource has been exhausted (e.g. check quota)."
        )
        if retry_after is not None:
            response.headers["Retry-After"] = str(retry_after)
        return response
    return _error(
        status, "UNAVAILABLE" if status == 503 else "INTERNAL", "The model is overloaded."
    )
