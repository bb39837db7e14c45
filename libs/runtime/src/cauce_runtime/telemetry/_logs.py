"""JSON logs with trace ids, and masking of phone numbers and secrets.

Every record is one JSON line on stdout carrying ``service``, ``trace_id`` and
``span_id`` (from the current OpenTelemetry span) so logs join traces. Messages, their
arguments, extra fields and tracebacks pass through :func:`mask_sensitive` before they
are written: phone numbers keep their country code and last four digits, bearer
tokens and ``key=value`` secrets lose their value.
"""

from __future__ import annotations

import logging
import re
import sys
from typing import TYPE_CHECKING, Any

from opentelemetry import trace
from pythonjsonlogger.json import JsonFormatter

if TYPE_CHECKING:
    from cauce_runtime._settings import ServiceSettings

# A run of 8-15 digits, optionally after "+", not glued to other letters or digits
# (so hex trace ids and UUIDs are left alone).
_PHONE_PLAIN = re.compile(r"(?<![0-9A-Za-z+])\+?\d{8,15}(?![0-9A-Za-z])")
# "+57 300 123 4567", "+1 (415) 555-0100": only with a leading "+" so dates survive.
_PHONE_SEPARATED = re.compile(r"\+\d{1,3}(?:[ .-]?\(?\d{1,4}\)?){2,5}(?![0-9A-Za-z])")
_BEARER = re.compile(r"(?i)\b(bearer|basic)(\s+)[A-Za-z0-9._~+/=-]{4,}")
_KEY_VALUE_SECRET = re.compile(
    r"(?i)\b([\w-]*(?:password|passwd|secret|token|api[_-]?key|authorization|signature))"
    r"(\"?\s*[:=]\s*\"?)(?!\*\*\*|(?:bearer|basic)\s)([^\s\"'&,;}]+)"
)
MASK = "***"


def mask_phone(text: str) -> str:
    """Mask every phone-like number: ``+573001234567`` -> ``+57******4567``."""

    def _mask(match: re.Match[str]) -> str:
        raw = match.group(0)
        digits = re.sub(r"\D", "", raw)
        if not 8 <= len(digits) <= 15:
            return raw
        plus = "+" if raw.startswith("+") else ""
        return f"{plus}{digits[:2]}{'*' * (len(digits) - 6)}{digits[-4:]}"

    return _PHONE_PLAIN.sub(_mask, _PHONE_SEPARATED.sub(_mask, text))


def mask_secrets(text: str) -> str:
    """Hide bearer/basic credentials and values of ``*token=``/``*secret:``-style pairs."""
    text = _BEARER.sub(lambda m: f"{m.group(1)}{m.group(2)}{MASK}", text)
    return _KEY_VALUE_SECRET.sub(lambda m: f"{m.group(1)}{m.group(2)}{MASK}", text)


def mask_sensitive(text: str) -> str:
    """Both masks: what every log line goes through."""
    return mask_phone(mask_secrets(text))


class MaskingFilter(logging.Filter):
    """Renders the message with its args, then masks it (args can hold phones too)."""

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except Exception:  # a broken format string must not lose the record
            message = f"{record.msg!r} {record.args!r}"
        record.msg = mask_sensitive(message)
        record.args = None
        return True


class TraceContextFilter(logging.Filter):
    """Adds ``service``, ``trace_id`` and ``span_id`` of the current span to each record."""

    def __init__(self, service: str) -> None:
        super().__init__()
        self.service = service

    def filter(self, record: logging.LogRecord) -> bool:
        record.service = self.service
        context = trace.get_current_span().get_span_context()
        if context.is_valid:
            record.trace_id = f"{context.trace_id:032x}"
            record.span_id = f"{context.span_id:016x}"
        else:
            record.trace_id = None
            record.span_id = None
        return True


def _mask_value(value: Any) -> Any:
    if isinstance(value, str):
        return mask_sensitive(value)
    if isinstance(value, dict):
        return {k: _mask_value(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_mask_value(v) for v in value]
    if isinstance(value, int) and not isinstance(value, bool) and abs(value) >= 10_000_000:
        return mask_phone(str(value))
    return value


class MaskingJsonFormatter(JsonFormatter):
    """JSON formatter that also masks extra fields and tracebacks."""

    def process_log_record(self, log_data: dict[str, Any]) -> dict[str, Any]:
        return {
            key: _mask_value(value) for key, value in super().process_log_record(log_data).items()
        }

    def formatException(self, ei: Any) -> str:
        return mask_sensitive(str(super().formatException(ei)))


def build_handler(service: str, stream: Any = None) -> logging.Handler:
    """A stream handler writing masked JSON lines with trace ids (stdout by default)."""
    handler = logging.StreamHandler(stream or sys.stdout)
    handler.addFilter(TraceContextFilter(service))
    handler.addFilter(MaskingFilter())
    handler.setFormatter(
        MaskingJsonFormatter(
            "%(asctime)s %(levelname)s %(name)s %(message)s %(service)s %(trace_id)s %(span_id)s",
            rename_fields={"asctime": "time", "levelname": "level", "name": "logger"},
            timestamp=False,
        )
    )
    return handler


def configure_logging(settings: ServiceSettings, stream: Any = None) -> logging.Handler:
    """Route the root logger (and uvicorn's) to one masked JSON handler."""
    handler = build_handler(settings.service_name, stream)
    root = logging.getLogger()
    for existing in list(root.handlers):
        root.removeHandler(existing)
    root.addHandler(handler)
    root.setLevel(settings.log_level.upper())
    for name in ("uvicorn", "uvicorn.error", "uvicorn.access"):
        named = logging.getLogger(name)
        named.handlers.clear()
        named.propagate = True
    return handler
