"""``python -m bench.notifier_sandbox``: the provider sandbox (``CAUCE_SANDBOX_*``) without
per-request access logs, which would cost the 2-core bench machine CPU the notifier needs."""

from __future__ import annotations

import uvicorn

from cauce_devstack.sandbox.app import create_app
from cauce_devstack.sandbox.settings import SandboxSettings


def main() -> None:
    settings = SandboxSettings()
    uvicorn.run(
        create_app(settings),
        host=settings.host,
        port=settings.port,
        log_level="warning",
        access_log=False,
        timeout_graceful_shutdown=2,
    )


if __name__ == "__main__":
    main()
