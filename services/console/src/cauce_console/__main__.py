"""``python -m cauce_console``: serve the console (settings from ``CAUCE_*``)."""

from cauce_console.app import create_app
from cauce_console.settings import ConsoleSettings
from cauce_runtime import run


def main() -> None:
    run(create_app, ConsoleSettings())


if __name__ == "__main__":
    main()
