"""``python -m bench``: the gateway benchmark (issue 2) against its two ceilings.

Signed WhatsApp text webhooks are posted by a separate load process to the real gateway
(a subprocess on a real nats-server); the same load hits a FastAPI/uvicorn app that does
no work (HTTP ceiling), and nats-py publishes with PubAck directly (bus ceiling). It
prints figures and asserts nothing about speed.
"""
