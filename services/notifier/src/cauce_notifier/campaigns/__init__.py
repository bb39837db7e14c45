"""Bulk template campaigns: CSV (or a segment of leads) to delivered messages, paced at
the sending number's real limits, resumable, exactly once per recipient.

A campaign's recipients are planned once (their template variables frozen), then
released into the notifier's ordinary send path as ``outbound.message.requested``
events whose id is derived from (campaign, recipient): the send path's idempotency,
rate limiter, status timeline and error handling are the campaign's too.
"""
