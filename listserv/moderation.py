"""Moderation: held posts, and decisions taken by mail, on the web or the CLI.

    held ──approve──► queued (approved: hold reasons no longer apply) ──► pipeline ──► accepted
         ├──reject───► rejected; the poster is told the reason
         └──expiry───► expired; the poster is told nobody decided in time
    rejected, expired ──retention──► body deleted; the record (who, when, why) stays

A held post gets two tokens, one to approve and one to reject, each mailed to
every moderator as a reply address (LIST-approve+TOKEN@DOMAIN). Only their
SHA-256 digests are stored. A token acts once, for one post, before it
expires, and only when the reply comes from a moderator or owner of the list;
whatever else arrives gets a short notice and changes nothing.
"""

from __future__ import annotations

import base64
import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from email import policy
from email.message import EmailMessage
from email.parser import BytesParser
from enum import StrEnum

from sqlalchemy import select, update
from sqlalchemy.orm import Session
from sqlmodel import col

from listserv.addresses import try_normalise
from listserv.db import Database
from listserv.directory import ListView
from listserv.errors import NotFound
from listserv.models import (
    InboundMessage,
    InboundState,
    MailingList,
    Member,
    ModerationToken,
    NoticeLog,
    Role,
    utcnow,
)
from listserv.notices import build_notice, may_notify, queue_notice
from listserv.post_rendering import summary_of

HELD_NOTICE_INTERVAL = timedelta(hours=1)
REASON_TEXT = {
    "nonmember": "The sender is not a member of the list.",
    "moderated-member": "The sender's posts are moderated.",
    "first-post": "It is the sender's first post to the list.",
    "too-big": "It is larger than the list's size limit for unmoderated posts.",
    "attachment-type": "It carries an attachment of a type the list does not allow.",
    "unauthenticated": "The sender's domain did not authenticate the message (DKIM/DMARC).",
    "processing-failed": "listserv could not process it; a moderator should look at it.",
}


class Verdict(StrEnum):
    APPROVED = "approved"
    REJECTED = "rejected"
    ALREADY_DECIDED = "already-decided"
    NOT_FOUND = "not-found"
    NOT_ALLOWED = "not-allowed"  # the deciding address is not a moderator or owner of the list
    EXPIRED = "expired"


class Action(StrEnum):
    APPROVE = "approve"
    REJECT = "reject"


@dataclass(frozen=True, slots=True)
class HeldPost:
    id: int
    list_address: str
    sender: str  # moderators are accountable and see who sent it
    subject: str
    reasons: tuple[str, ...]  # human sentences
    held_at: datetime
    label: str  # resolved TLP label, "TLP:AMBER"
    first_lines: str
    archive_preview: str  # the de-attributed text the archive would show ("" if none)
    archive_flags: tuple[str, ...]


def reason_sentences(codes: str) -> tuple[str, ...]:
    return tuple(REASON_TEXT.get(code, code) for code in codes.split() if code)


def new_token() -> str:
    """130 random bits in lower-case base32: safe in a case-folded local part."""
    return base64.b32encode(secrets.token_bytes(20)).decode().lower().rstrip("=")


def token_digest(token: str) -> str:
    return hashlib.sha256(token.strip().lower().encode()).hexdigest()


def decision_address(mailing_list: ListView, action: Action, token: str) -> str:
    return f"{mailing_list.local_part}-{action.value}+{token}@{mailing_list.domain}"


def issue_tokens(session: Session, inbound_id: int, expires_at: datetime) -> dict[Action, str]:
    tokens = {action: new_token() for action in Action}
    session.add_all(
        ModerationToken(
            inbound_id=inbound_id,
            action=action.value,
            token_digest=token_digest(token),
            expires_at=expires_at,
        )
        for action, token in tokens.items()
    )
    session.flush()
    return tokens


def moderator_request(
    mailing_list: ListView,
    *,
    moderator: str,
    sender: str,
    subject: str,
    first_lines: str,
    label: str,
    reasons: tuple[str, ...],
    preview: str,
    flags: tuple[str, ...],
    tokens: dict[Action, str],
    expires_at: datetime,
) -> EmailMessage:
    approve = decision_address(mailing_list, Action.APPROVE, tokens[Action.APPROVE])
    reject = decision_address(mailing_list, Action.REJECT, tokens[Action.REJECT])
    reason_lines = "\n".join(f"  - {reason}" for reason in reasons)
    flag_lines = "\n".join(f"  - {flag}" for flag in flags) or "  (none)"
    quoted = "\n".join(f"  | {line}" for line in first_lines.splitlines()) or "  | (empty)"
    archive = preview.strip() or "(this post will not be archived)"
    body = f"""A post to {mailing_list.address} is waiting for a moderator.

From:    {sender}
Subject: {subject}
Label:   {label}
Held because:
{reason_lines}

It begins:
{quoted}

To APPROVE it, reply to this mail sent to (or click):
  mailto:{approve}
To REJECT it, reply to (or click) the address below; the first line you
write becomes the reason the sender is given:
  mailto:{reject}
Either works once, and until {expires_at:%Y-%m-%d %H:%M} UTC.

What the de-attributed archive will show:
----------------------------------------------------------------------
{archive}
----------------------------------------------------------------------
Flags for your attention:
{flag_lines}
"""
    notice = build_notice(
        mailing_list,
        to=moderator,
        subject=f"[{mailing_list.name}] held for moderation: {subject[:100]}",
        body=body,
        auto_submitted="auto-generated",
        reply_to=approve,
    )
    return notice


def notify_poster_held(
    session: Session,
    mailing_list: ListView,
    *,
    recipient: str,
    subject: str,
    reasons: tuple[str, ...],
    in_reply_to: str | None,
    now: datetime,
) -> bool:
    """Tell the poster their post waits, at most once an hour per address."""
    address = try_normalise(recipient)
    if address is None or not may_notify(address):
        return False
    last = session.get(NoticeLog, (address, "held"))
    if last is not None and now - last.sent_at < HELD_NOTICE_INTERVAL:
        return False
    if last is None:
        session.add(NoticeLog(address=address, kind="held", sent_at=now))
    else:
        last.sent_at = now
        session.add(last)
    reason_lines = "\n".join(f"- {reason}" for reason in reasons)
    notice = build_notice(
        mailing_list,
        to=address,
        subject=f"Your post to {mailing_list.name} awaits a moderator",
        body=(
            f"Your message to {mailing_list.address} (subject: {subject[:120]!r}) "
            f"is held for a moderator:\n\n{reason_lines}\n\n"
            "You will hear from us if it is rejected. "
            "Further posts within the hour get no separate notice."
        ),
        in_reply_to=in_reply_to,
    )
    queue_notice(session, mailing_list, notice, address)
    return True


def _list_view(session: Session, list_id: int) -> ListView:
    row = session.get(MailingList, list_id)
    if row is None:
        raise NotFound(f"no list with id {list_id}")
    return ListView.of(row)


def may_moderate(session: Session, list_id: int, address: str) -> bool:
    normalised = try_normalise(address)
    if normalised is None:
        return False
    role = session.scalar(
        select(Member.role).where(col(Member.list_id) == list_id, col(Member.email) == normalised)
    )
    return role in (Role.MODERATOR.value, Role.OWNER.value)


def _parse(raw: bytes | None) -> EmailMessage:
    message = BytesParser(policy=policy.default).parsebytes(raw or b"")
    assert isinstance(message, EmailMessage)
    return message


async def held_posts(db: Database, list_address: str) -> list[HeldPost]:
    async with db.session() as session:
        mailing_list = (
            await session.scalars(
                select(MailingList).where(col(MailingList.address) == list_address.lower())
            )
        ).first()
        if mailing_list is None:
            raise NotFound(f"no list {list_address}")
        rows = (
            await session.scalars(
                select(InboundMessage)
                .where(
                    col(InboundMessage.list_id) == mailing_list.id,
                    col(InboundMessage.state) == InboundState.HELD.value,
                )
                .order_by(col(InboundMessage.id))
            )
        ).all()
        return [_held(row, mailing_list.address) for row in rows]


async def held_post(db: Database, inbound_id: int) -> HeldPost | None:
    async with db.session() as session:
        row = await session.get(InboundMessage, inbound_id)
        if row is None or row.state != InboundState.HELD.value:
            return None
        mailing_list = await session.get(MailingList, row.list_id)
        assert mailing_list is not None
        return _held(row, mailing_list.address)


def _held(row: InboundMessage, list_address: str) -> HeldPost:
    assert row.id is not None
    summary = summary_of(_parse(row.raw))
    return HeldPost(
        id=row.id,
        list_address=list_address,
        sender=summary.sender,
        subject=summary.subject,
        reasons=reason_sentences(row.reasons),
        held_at=row.held_at or row.received_at,
        label=row.label or "",
        first_lines=summary.first_lines,
        archive_preview=row.preview_text,
        archive_flags=tuple(row.preview_flags),
    )


async def approve(db: Database, inbound_id: int, *, moderator: str, via: str) -> Verdict:
    """Send a held post on through the pipeline, as if it had been accepted."""
    return await db.write(
        lambda session: _decide(session, inbound_id, Action.APPROVE, moderator, via, "")
    )


async def reject(
    db: Database, inbound_id: int, *, moderator: str, via: str, reason: str = ""
) -> Verdict:
    """Refuse a held post; its sender is told `reason`."""
    return await db.write(
        lambda session: _decide(session, inbound_id, Action.REJECT, moderator, via, reason)
    )


def _decide(
    session: Session,
    inbound_id: int,
    action: Action,
    moderator: str,
    via: str,
    reason: str,
    now: datetime | None = None,
) -> Verdict:
    now = now or utcnow()
    row = session.get(InboundMessage, inbound_id, with_for_update=True)
    if row is None:
        return Verdict.NOT_FOUND
    if via != "cli" and not may_moderate(session, row.list_id, moderator):
        return Verdict.NOT_ALLOWED
    if row.state == InboundState.EXPIRED.value:
        return Verdict.EXPIRED
    if row.state != InboundState.HELD.value:
        return Verdict.ALREADY_DECIDED
    common = {
        "moderated_by": moderator,
        "moderation_via": via,
        "decided_at": now,
        "lease_until": None,
    }
    if action is Action.APPROVE:
        # Back into the queue; the pipeline sees moderated_by and skips hold reasons.
        values = {**common, "state": InboundState.QUEUED.value, "moderation_reason": "approved"}
    else:
        reason = " ".join(reason.split())[:500] or "A moderator declined it."
        values = {**common, "state": InboundState.REJECTED.value, "moderation_reason": reason}
    session.execute(
        update(InboundMessage)
        .where(col(InboundMessage.id) == inbound_id, col(InboundMessage.state) == "held")
        .values(**values)
    )
    session.execute(
        update(ModerationToken)
        .where(
            col(ModerationToken.inbound_id) == inbound_id, col(ModerationToken.used_at).is_(None)
        )
        .values(used_at=now)
    )
    if action is Action.REJECT:
        _notify_rejected(session, row, values["moderation_reason"])
        return Verdict.REJECTED
    return Verdict.APPROVED


def _notify_rejected(session: Session, row: InboundMessage, reason: str) -> None:
    mailing_list = _list_view(session, row.list_id)
    message = _parse(row.raw)
    if not may_notify(row.mail_from):
        return
    subject = str(message.get("Subject", "") or "")
    notice = build_notice(
        mailing_list,
        to=row.mail_from,
        subject=f"Your post to {mailing_list.name} was rejected",
        body=(
            f"Your message to {mailing_list.address} (subject: {subject[:120]!r}) "
            f"was rejected by a moderator.\n\nReason: {reason}\n\n"
            f"Questions go to the list owners at {mailing_list.owner_address}."
        ),
        in_reply_to=str(message.get("Message-ID", "") or "") or None,
    )
    queue_notice(session, mailing_list, notice, row.mail_from)


@dataclass(frozen=True, slots=True)
class TokenReply:
    verdict: Verdict
    inbound_id: int | None


def decide_by_token(
    session: Session,
    *,
    list_id: int,
    token: str,
    action: Action,
    sender: str,
    reply: EmailMessage,
    now: datetime,
) -> TokenReply:
    """Act on a moderator's reply to LIST-approve+TOKEN or LIST-reject+TOKEN."""
    found = (
        session.scalars(
            select(ModerationToken).where(
                col(ModerationToken.token_digest) == token_digest(token),
                col(ModerationToken.action) == action.value,
            )
        )
    ).first()
    if found is None:
        return TokenReply(Verdict.NOT_FOUND, None)
    row = session.get(InboundMessage, found.inbound_id)
    if row is None or row.list_id != list_id:
        return TokenReply(Verdict.NOT_FOUND, None)
    if not may_moderate(session, list_id, sender):
        return TokenReply(Verdict.NOT_ALLOWED, row.id)
    if found.used_at is not None or row.state != InboundState.HELD.value:
        if row.state == InboundState.EXPIRED.value:
            return TokenReply(Verdict.EXPIRED, row.id)
        return TokenReply(Verdict.ALREADY_DECIDED, row.id)
    if found.expires_at <= now:
        return TokenReply(Verdict.EXPIRED, row.id)
    reason = first_own_line(reply) if action is Action.REJECT else ""
    assert row.id is not None
    verdict = _decide(session, row.id, action, sender, "mail", reason, now)
    return TokenReply(verdict, row.id)


def first_own_line(reply: EmailMessage) -> str:
    """The first line a moderator wrote: not quoted, not an attribution, not a signature."""
    try:
        body = reply.get_body(("plain", "html"))
        text = str(body.get_content()) if body is not None else ""
    except (LookupError, KeyError, ValueError, AssertionError):
        return ""
    for line in text.splitlines():
        stripped = line.strip()
        if not stripped or stripped.startswith(">"):
            continue
        if stripped in ("--", "-- ") or stripped.startswith("-----"):
            break
        lowered = stripped.lower()
        if lowered.endswith(("wrote:", "schrieb:", "a écrit :", "a écrit:", "escribió:")):
            continue
        return stripped
    return ""


def verdict_notice(
    mailing_list: ListView, *, to: str, verdict: Verdict, subject: str, in_reply_to: str | None
) -> EmailMessage:
    sentences = {
        Verdict.APPROVED: "The post is approved and goes to the list now.",
        Verdict.REJECTED: "The post is rejected; its sender has been told why.",
        Verdict.ALREADY_DECIDED: "That post was already decided; nothing changed.",
        Verdict.NOT_FOUND: "That approval address is not valid; nothing changed.",
        Verdict.NOT_ALLOWED: (
            f"Only moderators of {mailing_list.address} can decide held posts, and this reply"
            " did not come from one; nothing changed."
        ),
        Verdict.EXPIRED: "That approval address has expired; nothing changed.",
    }
    return build_notice(
        mailing_list,
        to=to,
        subject=f"Re: {subject[:100]}" if subject else f"[{mailing_list.name}] moderation",
        body=sentences[verdict],
        in_reply_to=in_reply_to,
    )


async def expire_and_purge(db: Database, now: datetime | None = None) -> tuple[int, int]:
    """Expire undecided held posts and delete old bodies; (expired, purged)."""
    moment = now or utcnow()
    return await db.write(lambda session: _expire_and_purge(session, moment))


def _expire_and_purge(session: Session, now: datetime) -> tuple[int, int]:
    expired = purged = 0
    for mailing_list in session.scalars(select(MailingList)).all():
        view = ListView.of(mailing_list)
        overdue = session.scalars(
            select(InboundMessage).where(
                col(InboundMessage.list_id) == view.id,
                col(InboundMessage.state) == InboundState.HELD.value,
                col(InboundMessage.held_at) <= now - timedelta(days=view.token_expiry_days),
            )
        ).all()
        for row in overdue:
            row.state = InboundState.EXPIRED.value
            row.decided_at = now
            row.moderation_reason = "no moderator decided in time"
            session.add(row)
            expired += 1
            if may_notify(row.mail_from):
                subject = str(_parse(row.raw).get("Subject", "") or "")
                notice = build_notice(
                    view,
                    to=row.mail_from,
                    subject=f"Your post to {view.name} expired",
                    body=(
                        f"Your message to {view.address} (subject: {subject[:120]!r}) "
                        f"waited for a moderator for {view.token_expiry_days} days "
                        "and was not distributed."
                    ),
                )
                queue_notice(session, view, notice, row.mail_from)
        result = session.execute(
            update(InboundMessage)
            .where(
                col(InboundMessage.list_id) == view.id,
                col(InboundMessage.state).in_(
                    [InboundState.REJECTED.value, InboundState.EXPIRED.value]
                ),
                col(InboundMessage.raw).is_not(None),
                col(InboundMessage.decided_at)
                <= now - timedelta(days=mailing_list.held_retention_days),
            )
            .values(raw=None, preview_text="", bytes_deleted_at=now)
        )
        purged += result.rowcount  # type: ignore[attr-defined]
    return expired, purged
