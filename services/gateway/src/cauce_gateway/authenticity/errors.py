class NotAuthentic(Exception):
    """The request's signature or key is missing or wrong; nothing may be published.

    The message is safe to return to the caller: it never echoes a secret or a signature.
    """
