"""``python -m cauce_notifier``: serve notifier (settings from ``CAUCE_*``)."""

from cauce_notifier.app import create_app
from cauce_notifier.settings import NotifierSettings
from cauce_runtime import run


def main() -> None:
    run(create_app, NotifierSettings())


if __name__ == "__main__":
    main()
