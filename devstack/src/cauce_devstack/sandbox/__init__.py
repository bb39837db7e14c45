"""The provider sandbox: faithful fakes of the external APIs cauce talks to, over HTTP.

``create_app()`` builds the FastAPI app; ``python -m cauce_devstack.sandbox`` serves it.
Payload builders for Meta webhooks live in :mod:`cauce_devstack.sandbox.meta.webhooks`.
"""
