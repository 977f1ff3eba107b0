"""E-mail addresses as the registry stores them: checked and normalised.

email-validator does the syntax and Unicode normalisation (no DNS lookups:
a closed list must work offline). Addresses are then lower-cased whole, so
`Alice@Operator-A.example` and `alice@operator-a.example` are one member:
every large provider treats local parts case-insensitively, and members
should never be told they "are not a member" because of a capital letter.
"""

from __future__ import annotations

from email.headerregistry import Address
from email.message import Message
from email.utils import getaddresses
from functools import lru_cache

from email_validator import EmailNotValidError, validate_email

from listserv.errors import InvalidInput


def normalise_address(text: str) -> str:
    """The registry form of an address, or InvalidInput saying what is wrong."""
    candidate = text.strip()
    if not candidate:
        raise InvalidInput("an e-mail address is required")
    try:
        result = validate_email(candidate, check_deliverability=False, allow_smtputf8=True)
    except EmailNotValidError as error:
        raise InvalidInput(f"{candidate!r} is not an e-mail address: {error}") from None
    return result.normalized.lower()


@lru_cache(maxsize=8192)
def try_normalise(text: str) -> str | None:
    try:
        return normalise_address(text)
    except InvalidInput:
        return None


def author_addresses(message: Message) -> list[str]:
    """The normalised addresses in the header From: (RFC 5322 allows several).

    Works on messages parsed with `policy.default` (structured headers) and
    with `policy.compat32` (plain strings, as the pipeline's header parse).
    """
    try:
        header = message["From"]
    except Exception:  # a From the email package cannot parse is no author
        return []
    if header is None:
        return []
    if hasattr(header, "addresses"):
        specs = [a.addr_spec for a in header.addresses if isinstance(a, Address)]
    else:
        specs = [spec for _, spec in getaddresses([str(header)])]
    found: list[str] = []
    for spec in specs:
        normalised = try_normalise(spec) if spec else None
        if normalised:
            found.append(normalised)
    return found


def domain_of(address: str) -> str:
    return address.rsplit("@", 1)[-1]
