"""The HTTP ceiling: the gateway's FastAPI/uvicorn stack answering 200 with no work.

Served by the runtime's own uvicorn runner (same config, uvloop/httptools as
``uvicorn[standard]`` picks), so the only difference from the gateway is the work.
Run as ``python -m bench.http_ceiling`` with ``CAUCE_PORT`` set.
"""

from __future__ import annotations

from fastapi import APIRouter, FastAPI, Response

from cauce_runtime import ServiceSettings, serve

router = APIRouter()


@router.post("/webhooks/whatsapp")
async def whatsapp() -> Response:
    return Response(status_code=200)


@router.get("/readyz")
async def readyz() -> Response:
    return Response(status_code=200)


def create_app() -> FastAPI:
    app = FastAPI(title="bench http ceiling")
    app.include_router(router)
    return app


def main() -> None:
    serve(create_app(), ServiceSettings(service_name="http-ceiling"))


if __name__ == "__main__":
    main()
