"""``python -m cauce_crm_sync``: serve crm-sync (settings from ``CAUCE_*``)."""

from cauce_crm_sync.app import create_app
from cauce_crm_sync.settings import CrmSyncSettings
from cauce_runtime.app import run


def main() -> None:
    run(create_app, CrmSyncSettings())


if __name__ == "__main__":
    main()
