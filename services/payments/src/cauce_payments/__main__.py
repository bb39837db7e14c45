"""``python -m cauce_payments``: serve payments (settings from ``CAUCE_*``)."""

from cauce_payments.app import create_app
from cauce_payments.settings import PaymentsSettings
from cauce_runtime import run


def main() -> None:
    run(create_app, PaymentsSettings())


if __name__ == "__main__":
    main()
