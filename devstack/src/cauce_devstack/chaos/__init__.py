"""``make chaos``: the whole stack under a mixed load while faults hit it, then a ledger.

- :mod:`.journeys`: the load, one class per flow a person drives (a customer paying
  their vehicle tax through the bot, a ManyChat lead moving through its states). Each
  keeps a journal of the webhooks the stack answered 200 for and what should follow.
- :mod:`.faults`: what goes wrong (kill -9 of a service, NATS down and back, PostgreSQL
  or MongoDB stalled, a provider's 429/5xx/timeout storm), each timed to recovery.
- :mod:`.ledger`: after the load settles, every accepted webhook's effects counted at
  the providers' fakes (the Graph outbox, SCI's transactions, Odoo's records):
  duplicates and losses must both be 0.
- :mod:`.run`: starts the stack, runs load and faults together, prints the table.

Loopback only, bounded in count and time: ``make chaos`` runs every fault;
``tests/chaos`` runs a short form in CI. Adding a flow is a journey class with
``run()`` and ``expect()``, and a line in :func:`.run.journeys_for`.
"""
