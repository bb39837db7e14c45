"""``python -m bench``: figures for every service, printed, never asserted.

The gateway's (:mod:`bench.gateway`): signed WhatsApp webhooks posted by a separate load
process to the real gateway on a real nats-server, traced and untraced, one process and
two, beside a hand-written receiver doing the least a correct one must (the peer) and two
ceilings (FastAPI answering with no work, nats-py publishing with PubAck directly).
"""
