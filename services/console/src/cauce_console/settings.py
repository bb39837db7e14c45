"""Console configuration (``CAUCE_*``; secrets may be files in the secrets dir).

The console holds no data: it signs people in at the identity service and shows what
the services' APIs answer to their access token. The ``dev-`` defaults let ``make run``
work out of the box; outside dev/test the runtime refuses to start with them.
"""

from pathlib import Path

from pydantic import Field, SecretStr

from cauce_runtime import ServiceSettings

#: Where ``npm ci`` (``make``) puts the browser libraries the console serves.
DEFAULT_ASSETS_DIR = Path(__file__).resolve().parents[2] / "node_modules"


class ConsoleSettings(ServiceSettings):
    service_name: str = "console"
    port: int = 8086
    #: The services the console calls for the signed-in user (server to server).
    identity_url: str = "http://127.0.0.1:8085"
    conversation_url: str = "http://127.0.0.1:8081"
    notifier_url: str = "http://127.0.0.1:8084"
    crm_sync_url: str = "http://127.0.0.1:8083"
    #: Encrypts the session cookie (it carries the user's tokens): any long random
    #: string; changing it signs everybody out.
    session_key: SecretStr = SecretStr("dev-console-session-key")
    #: Cookies only over HTTPS (off for ``make run`` on http://127.0.0.1).
    secure_cookies: bool = True
    #: Seconds a service call may take before the page says the service is unavailable.
    backend_timeout_s: float = Field(default=10.0, gt=0)
    #: htmx and its SSE extension (``services/console/node_modules``, from npm).
    assets_dir: Path = DEFAULT_ASSETS_DIR
