"""A minimal service for the SIGTERM test: one slow endpoint, run by ``serve``.

Not a test module; ``test_graceful_shutdown.py`` runs it as a subprocess.
"""

from __future__ import annotations

import asyncio
import os
from pathlib import Path

from fastapi import APIRouter

from cauce_runtime import Bus, ServiceSettings, configure_logging, create_service_app, serve

router = APIRouter()


@router.get("/slow")
async def slow() -> dict[str, str]:
    Path(os.environ["MARKER_FILE"]).touch()  # the test sends SIGTERM once this exists
    await asyncio.sleep(1.0)
    return {"status": "finished"}


def main() -> None:
    settings = ServiceSettings(_env_file=None)
    configure_logging(settings)
    app = create_service_app(settings, bus=Bus(settings, streams=()), routers=[router])
    serve(app, settings)


if __name__ == "__main__":
    main()
