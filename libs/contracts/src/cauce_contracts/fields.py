"""Constrained field types shared by event payloads.

Every id that also travels as a subject token is a :data:`SubjectToken`, so a model
that validates can always be published (the subject builders would reject it
otherwise, later and further from the cause).
"""

from __future__ import annotations

from typing import Annotated

from pydantic import Field, StringConstraints

from cauce_contracts.envelope import TOKEN_PATTERN

#: A value usable as one NATS subject token.
SubjectToken = Annotated[
    str, StringConstraints(min_length=1, max_length=128, pattern=TOKEN_PATTERN)
]

#: :func:`cauce_contracts.subjects.contact_key` output: 24 lowercase hex characters.
ContactKey = Annotated[str, StringConstraints(pattern=r"^[0-9a-f]{24}$")]

#: A phone address as channels use it: digits, optionally with a leading ``+``
#: (E.164 without formatting). Treat as personal data: never log it in clear.
PhoneAddress = Annotated[str, StringConstraints(pattern=r"^\+?[0-9]{6,20}$")]

#: A provider's identifier (message id, account id, phone_number_id, DID...).
#: The longest provider id (account, message) a contract carries.
PROVIDER_ID_MAX_CHARS = 256
ProviderId = Annotated[str, StringConstraints(min_length=1, max_length=PROVIDER_ID_MAX_CHARS)]

#: Free text with a sane upper bound (names, states, reasons).
ShortText = Annotated[str, StringConstraints(min_length=1, max_length=256)]

#: A longer free-text explanation (error details).
LongText = Annotated[str, StringConstraints(min_length=1, max_length=4096)]

#: An http(s) URL kept exactly as given (pydantic's ``HttpUrl`` would normalise it,
#: e.g. add a trailing slash, and change what the customer sees).
WebUrl = Annotated[
    str, StringConstraints(min_length=10, max_length=2000, pattern=r"^https?://\S+$")
]

#: Colombian pesos as a whole number: SCI TOTAL amounts carry no cents.
Pesos = Annotated[int, Field(ge=0)]
