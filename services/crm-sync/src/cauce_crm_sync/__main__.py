"""``python -m cauce_crm_sync``: serve crm-sync, or operate it (see :mod:`cauce_crm_sync.cli`)."""

import sys

from cauce_crm_sync.cli import main

if __name__ == "__main__":
    sys.exit(main())
