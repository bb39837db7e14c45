"""``python -m cauce_gateway``: serve the gateway (settings from ``CAUCE_*``)."""

from cauce_gateway.app import create_app
from cauce_gateway.settings import GatewaySettings
from cauce_runtime import run


def main() -> None:
    run(create_app, GatewaySettings())


if __name__ == "__main__":
    main()
