"""``python -m cauce_conversation``: serve conversation (settings from ``CAUCE_*``)."""

from cauce_conversation.app import create_app
from cauce_conversation.settings import ConversationSettings
from cauce_runtime import run


def main() -> None:
    run(create_app, ConversationSettings())


if __name__ == "__main__":
    main()
