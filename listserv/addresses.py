"""E-mail addresses as the registry stores them: checked and normalised.

email-validator does the syntax and Unicode normalisation (no DNS lookups:
a closed list must work offline). Addresses are then lower-cased whole, so
`Alice@Operator-A.example` and `alice@operator-a.example` are one member:
every large provider treats local parts case-insensitively, and members
should never be told they "are not a member" because of a capital letter.
"""

from __future__ import annotations

from email.headerregistry import Address
from email.message import EmailMessage

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


def try_normalise(text: str) -> str | None:
    try:
        return normalise_address(text)
    except InvalidInput:
        return None


def author_addresses(message: EmailMessage) -> list[str]:
    """The normalised addresses in the header From: (RFC 5322 allows several)."""
    try:
        header = message["From"]
    except Exception:  # a From the email package cannot parse is no author
        return []
    if header is None:
        return []
    found: list[str] = []
    for address in getattr(header, "addresses", ()):
        if isinstance(address, Address) and address.addr_spec:
            normalised = try_normalise(address.addr_spec)
            if normalised:
                found.append(normalised)
    return found


def domain_of(address: str) -> str:
    return address.rsplit("@", 1)[-1]
