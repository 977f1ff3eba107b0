"""The distribution copy's list headers and DMARC-safe From (pure).

RFC 2369 (List-Help, -Post, -Unsubscribe, -Archive, -Owner), RFC 2919
(List-Id), `Precedence: list` and our loop marker `X-Loop`. Headers that
belong to other lists, that ask readers' clients to report back to the
sender ("fish for membership", as Mailman puts it), or that our changes
would break are removed first.

From is rewritten to the list address ("Alice via CISO" <ciso@…>) with the
author in Reply-To, the way Mailman mitigates DMARC (RFC 7960 §4.1.3.1): the
subject tag and TLP banner invalidate the author's DKIM signature, so a
p=reject author domain would otherwise fail at every recipient.

RFC 8058 one-click unsubscription needs a URI that identifies the recipient
(§3.1). A fan-out renders one copy for every recipient, so the copy carries
no List-Unsubscribe-Post; List-Unsubscribe offers the request address and
the web page, which both identify the member by sign-in or sender.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass
from email.headerregistry import Address
from email.message import EmailMessage
from email.utils import formataddr

# Removed from incoming mail before redistribution.
DROPPED_HEADERS = (
    "Disposition-Notification-To",
    "Return-Receipt-To",
    "X-Confirm-Reading-To",
    "X-PMRQC",
    "Approved",
    "Approve",
    "Urgent",
    "Archived-At",
    "Return-Path",
    "Delivered-To",
    "Errors-To",
    "Sender",
    "Precedence",
    "X-Loop",
    "X-BeenThere",
    "DKIM-Signature",
    "X-Google-DKIM-Signature",
    "DomainKey-Signature",
)
DROPPED_PREFIXES = ("list-",)


@dataclass(frozen=True, slots=True)
class ListIdentity:
    address: str
    name: str
    list_id: str  # RFC 2919 identifier, "ciso.lists.example"
    request_address: str
    owner_address: str
    archive_url: str | None = None  # the list's archive page
    unsubscribe_url: str | None = None  # a page where a signed-in member leaves


def is_from_this_list(message: EmailMessage, identity: ListIdentity) -> bool:
    """True if the message already went through this list (a loop)."""
    for value in message.get_all("X-Loop", []):
        if identity.address.lower() in str(value).lower():
            return True
    for value in message.get_all("List-Id", []):
        if f"<{identity.list_id.lower()}>" in str(value).lower():
            return True
    return False


def distribution_copy(
    message: EmailMessage, identity: ListIdentity, *, archived_at: str | None = None
) -> EmailMessage:
    """A new message: the post with list headers, DMARC-safe From, no leaky headers."""
    result = copy.copy(message)
    result._headers = list(message._headers)  # type: ignore[attr-defined]
    for name in {name for name, _ in result.items()}:
        if name.lower().startswith(DROPPED_PREFIXES) or name.lower() in _DROPPED_LOWER:
            del result[name]
    _munge_from(result, message, identity)
    result["List-Id"] = f"{_quote_phrase(identity.name)} <{identity.list_id}>"
    result["List-Post"] = f"<mailto:{identity.address}>"
    result["List-Help"] = f"<mailto:{identity.request_address}?subject=help>"
    unsubscribe = [f"<mailto:{identity.request_address}?subject=unsubscribe>"]
    if identity.unsubscribe_url:
        unsubscribe.append(f"<{identity.unsubscribe_url}>")
    result["List-Unsubscribe"] = ", ".join(unsubscribe)
    result["List-Owner"] = f"<mailto:{identity.owner_address}>"
    if identity.archive_url:
        result["List-Archive"] = f"<{identity.archive_url}>"
    if archived_at:
        result["Archived-At"] = f"<{archived_at}>"  # RFC 5064
    result["Precedence"] = "list"
    result["X-Loop"] = identity.address
    return result


_DROPPED_LOWER = frozenset(name.lower() for name in DROPPED_HEADERS)


def _munge_from(result: EmailMessage, original: EmailMessage, identity: ListIdentity) -> None:
    authors = _addresses(original, "From")
    if not authors:
        return
    display = _readable(authors[0].display_name or authors[0].username)
    del result["From"]
    result["From"] = formataddr((f"{display} via {identity.name}", identity.address))
    if original.get("Reply-To") is None:
        del result["Reply-To"]
        result["Reply-To"] = ", ".join(
            formataddr((_readable(a.display_name), a.addr_spec)) for a in authors
        )


def _addresses(message: EmailMessage, header: str) -> list[Address]:
    try:
        value = message[header]
    except Exception:  # an unparseable header names nobody we can credit
        return []
    return [a for a in getattr(value, "addresses", ()) if isinstance(a, Address)]


def _readable(text: str) -> str:
    """Raw 8-bit header text (RFC 6532) arrives surrogate-escaped; make it UTF-8."""
    return text.encode("utf-8", "surrogateescape").decode("utf-8", "replace")


def _quote_phrase(text: str) -> str:
    escaped = text.replace("\\", "\\\\").replace('"', '\\"')
    return f'"{escaped}"'
