"""The served sandbox's way to the Graph fake's send endpoint without the web framework.

A campaign benchmark posts hundreds of sends a second to the fake on the machine that
runs the notifiers; through FastAPI's routing, dependency solving and middleware the
fake spent about three fifths of its CPU before reaching the endpoint. This ASGI
middleware answers ``POST /graph/{version}/{phone_number_id}/messages`` itself with the
same function the route calls (:func:`~cauce_devstack.sandbox.meta.messages.answer_send`)
and records refusals as :class:`~cauce_devstack.sandbox.refusals.RefusalRecorder` does;
everything else, the route's OpenAPI entry included, stays the app's.
"""

from __future__ import annotations

import re

from starlette.datastructures import Headers
from starlette.types import ASGIApp, Receive, Scope, Send

from cauce_devstack.sandbox.bootstrap import Sandbox
from cauce_devstack.sandbox.meta.messages import answer_send
from cauce_devstack.sandbox.refusals import read_body, refusal_entry

_SEND_PATH = re.compile(r"/graph/(?P<version>[^/]+)/(?P<phone_number_id>[^/]+)/messages")


class GraphSendFastPath:
    """Answers the Graph fake's sends before ``app`` sees them."""

    def __init__(self, app: ASGIApp, sandbox: Sandbox) -> None:
        self.app = app
        self.sandbox = sandbox

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        matched = (
            _SEND_PATH.fullmatch(scope["path"])
            if scope["type"] == "http" and scope["method"] == "POST"
            else None
        )
        if matched is None:
            await self.app(scope, receive, send)
            return
        raw = await read_body(receive)
        response = await answer_send(
            self.sandbox,
            matched["version"],
            matched["phone_number_id"],
            authorization=Headers(scope=scope).get("authorization"),
            raw=raw,
        )
        if response.status_code >= 400:
            self.sandbox.outbox.record(
                **refusal_entry(
                    "graph", scope["path"], raw, response.status_code, bytes(response.body)
                )
            )
        await response(scope, receive, send)
