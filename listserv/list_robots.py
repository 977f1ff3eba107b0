"""Mail to the list's robot addresses: bounces and moderators' one-mail decisions.

    LIST-bounces@DOMAIN          delivery status notifications: permanent
                                 failures raise the member's bounce score
    LIST-approve+TOKEN@DOMAIN    a moderator approves a held post
    LIST-reject+TOKEN@DOMAIN     … or rejects it; the reply's first own line
                                 is the reason the poster is given

Each runs in the caller's write transaction; the message itself is then discarded.
"""

from __future__ import annotations

from datetime import datetime
from email.message import EmailMessage

from sqlalchemy import update
from sqlalchemy.orm import Session
from sqlmodel import col

from filters.auto_reply import is_auto_reply
from filters.dsn import failed_recipients
from listserv.addresses import author_addresses
from listserv.directory import ListView
from listserv.models import DeliveryFailure, Member
from listserv.moderation import Action, TokenReply, decide_by_token, verdict_notice
from listserv.notices import may_notify, queue_notice


def record_bounce(session: Session, mailing_list: ListView, report: EmailMessage) -> int:
    """Count the permanent failures in a DSN against the members; how many there were."""
    failed = failed_recipients(report)
    for failure in failed:
        session.add(
            DeliveryFailure(
                list_id=mailing_list.id,
                address=failure.address,
                code=int(failure.status[0]) * 100 + 50,
                reason=f"{failure.status} {failure.diagnostic}".strip(),
            )
        )
        session.execute(
            update(Member)
            .where(col(Member.list_id) == mailing_list.id, col(Member.email) == failure.address)
            .values(bounce_score=Member.bounce_score + 1)
        )
    return len(failed)


def moderation_reply(
    session: Session,
    mailing_list: ListView,
    reply: EmailMessage,
    *,
    action: Action,
    token: str,
    envelope_sender: str,
    now: datetime,
) -> TokenReply:
    """Act on the reply, and tell its sender what happened (unless it is a robot)."""
    senders = author_addresses(reply)
    sender = senders[0] if senders else envelope_sender
    result = decide_by_token(
        session,
        list_id=mailing_list.id,
        token=token,
        action=action,
        sender=sender,
        reply=reply,
        now=now,
    )
    if may_notify(sender) and not is_auto_reply(reply):
        notice = verdict_notice(
            mailing_list,
            to=sender,
            verdict=result.verdict,
            subject=str(reply.get("Subject", "") or ""),
            in_reply_to=str(reply.get("Message-ID", "") or "") or None,
        )
        queue_notice(session, mailing_list, notice, sender)
    return result
