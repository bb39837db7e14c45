"""``python -m cauce_identity``: serve the identity API (settings from ``CAUCE_*``);
``python -m cauce_identity create-admin ...``: the first admin (see
:mod:`cauce_identity.admin_cli`)."""

import sys

from cauce_identity.app import create_app
from cauce_identity.settings import IdentitySettings
from cauce_runtime import run


def main() -> None:
    if sys.argv[1:2] == ["create-admin"]:
        from cauce_identity.admin_cli import main as create_admin

        create_admin(sys.argv[2:])
        return
    run(create_app, IdentitySettings())


if __name__ == "__main__":
    main()
