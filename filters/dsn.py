"""Delivery status notifications (RFC 3464) sent to a list's bounce address.

Only permanent failures (`Action: failed` with a 5.x.x status) count against
a member; delays and relays are not failures.
"""

from __future__ import annotations

from dataclasses import dataclass
from email import message_from_bytes, policy
from email.message import EmailMessage, Message


@dataclass(frozen=True, slots=True)
class FailedRecipient:
    address: str
    status: str  # "5.1.1"
    diagnostic: str


def failed_recipients(message: EmailMessage) -> list[FailedRecipient]:
    failed: list[FailedRecipient] = []
    for part in message.walk():
        if part.get_content_type() != "message/delivery-status":
            continue
        for block in _status_blocks(part):
            action = str(block.get("Action", "")).strip().lower()
            status = str(block.get("Status", "")).strip()
            recipient = str(block.get("Final-Recipient", "") or block.get("Original-Recipient", ""))
            address = recipient.split(";", 1)[-1].strip().strip("<>").lower()
            if action == "failed" and status.startswith("5") and "@" in address:
                failed.append(
                    FailedRecipient(address, status, str(block.get("Diagnostic-Code", ""))[:300])
                )
    return failed


def _status_blocks(part: Message) -> list[Message]:
    """The per-message and per-recipient field groups of a delivery-status part."""
    payload = part.get_payload()
    if isinstance(payload, list):
        return [block for block in payload if isinstance(block, Message)]
    # Some generators leave the part unparsed: split the groups ourselves.
    text = payload if isinstance(payload, str) else ""
    return [
        message_from_bytes(group.strip().encode(), policy=policy.compat32)
        for group in text.replace("\r\n", "\n").split("\n\n")
        if group.strip()
    ]
