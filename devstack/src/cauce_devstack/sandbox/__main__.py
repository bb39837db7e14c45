"""``python -m cauce_devstack.sandbox``: serve the sandbox on CAUCE_SANDBOX_HOST:PORT."""

from __future__ import annotations

import uvicorn

from cauce_devstack.sandbox.app import create_served_app
from cauce_devstack.sandbox.settings import SandboxSettings
from cauce_runtime import freeze_startup_heap


def main() -> None:
    settings = SandboxSettings()
    app = create_served_app(settings)
    freeze_startup_heap()  # a provider fake that stalls bunches what it receives
    uvicorn.run(
        app,
        host=settings.host,
        port=settings.port,
        log_level="info" if settings.access_log else "warning",
        access_log=settings.access_log,
        proxy_headers=False,  # nothing proxies the sandbox
        timeout_graceful_shutdown=2,  # do not wait for requests held by a "drop" fault
    )


if __name__ == "__main__":
    main()
