"""Notices: the short mails listserv writes itself (DESIGN, "Mail it sends").

Plain text, a few lines, `Auto-Submitted: auto-replied` when answering a
message and `auto-generated` otherwise (RFC 3834 §5), never sent to a null
sender, a robot or a list. Every notice becomes an outbound row and one
delivery batch in the transaction of the decision that caused it, so the
delivery worker stays the only sender (transactional outbox).
"""

from __future__ import annotations

from email.headerregistry import Address
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid

from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Session

from filters.auto_reply import is_robot_address
from listserv.directory import ListView
from listserv.models import DeliveryBatch, OutboundMessage, utcnow


def build_notice(
    mailing_list: ListView,
    *,
    to: str,
    subject: str,
    body: str,
    in_reply_to: str | None = None,
    auto_submitted: str = "auto-replied",
    reply_to: str | None = None,
) -> EmailMessage:
    notice = EmailMessage()
    notice["From"] = Address(
        f"{mailing_list.name} (listserv)", addr_spec=mailing_list.owner_address
    )
    notice["To"] = to
    notice["Subject"] = subject
    notice["Date"] = format_datetime(utcnow())
    notice["Message-ID"] = make_msgid(domain=mailing_list.domain)
    notice["Auto-Submitted"] = auto_submitted
    notice["Precedence"] = "bulk"
    notice["X-Loop"] = mailing_list.address
    if in_reply_to:
        notice["In-Reply-To"] = in_reply_to
        notice["References"] = in_reply_to
    if reply_to:
        notice["Reply-To"] = reply_to
    notice.set_content(body.rstrip() + "\n", cte="quoted-printable")
    return notice


def may_notify(address: str) -> bool:
    """RFC 3834 §2: never answer a null sender, a robot or a list."""
    return bool(address) and "@" in address and not is_robot_address(address)


def _outbound(mailing_list: ListView, notice: EmailMessage) -> OutboundMessage:
    return OutboundMessage(
        list_id=mailing_list.id,
        kind="notice",
        envelope_from=mailing_list.bounce_address,
        content=notice.as_bytes(),
        batches_open=1,
    )


def queue_notice(
    session: Session, mailing_list: ListView, notice: EmailMessage, recipient: str
) -> None:
    """Queue a notice for the delivery worker in the caller's write transaction."""
    outbound = _outbound(mailing_list, notice)
    session.add(outbound)
    session.flush()
    assert outbound.id is not None
    session.add(DeliveryBatch(outbound_id=outbound.id, recipients=recipient))


async def enqueue_notice(
    session: AsyncSession, mailing_list: ListView, notice: EmailMessage, recipient: str
) -> None:
    """The same, in an async session's transaction (the web's sign-in links)."""
    outbound = _outbound(mailing_list, notice)
    session.add(outbound)
    await session.flush()
    assert outbound.id is not None
    session.add(DeliveryBatch(outbound_id=outbound.id, recipients=recipient))
