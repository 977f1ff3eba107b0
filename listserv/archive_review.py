"""Archive copies that failed closed, and what a moderator does with them.

When scrubbing fails (an exception, a timeout, encrypted content, a registry
term left over), the post is distributed but its archive copy is held
(CHATHAM_HOUSE decision 5) and its raw bytes are kept for this review:

    pending ──withhold──► withheld   never archived; the raw original is deleted
            └──retry────► released   scrubbed again (after a fix or a new alias) and stored
                     └──► pending    still fails closed, with the new reason
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Session
from sqlmodel import col

from archive.models import ArchiveHold
from filters.tlp import Tlp, label_of_message, parse_label, resolve
from listserv.archiving import Archiver, keyed_ids
from listserv.db import Database
from listserv.delivery import release_raw
from listserv.directory import ListView
from listserv.errors import InvalidInput, NotFound
from listserv.inbound import parent_label
from listserv.models import InboundMessage, MailingList, Member, utcnow
from listserv.post_rendering import parse_message
from listserv.registry import load_registry


@dataclass(frozen=True, slots=True)
class HeldArchiveCopy:
    id: int
    inbound_id: int
    reason: str
    held_at: datetime
    subject: str


async def pending(db: Database, list_address: str) -> list[HeldArchiveCopy]:
    async with db.session() as session:
        mailing_list = await _list(session, list_address)
        rows = (
            await session.execute(
                select(ArchiveHold, InboundMessage.raw)
                .join(InboundMessage, col(InboundMessage.id) == col(ArchiveHold.inbound_id))
                .where(
                    col(ArchiveHold.list_id) == mailing_list.id,
                    col(ArchiveHold.state) == "pending",
                )
                .order_by(col(ArchiveHold.id))
            )
        ).all()
    copies = []
    for hold, raw in rows:
        assert hold.id is not None
        subject = str(parse_message(raw or b"").get("Subject", "") or "") if raw else ""
        copies.append(
            HeldArchiveCopy(hold.id, hold.inbound_id, hold.reason, hold.created_at, subject)
        )
    return copies


async def withhold(db: Database, hold_id: int) -> None:
    """Never archive this post; its raw original goes once delivery is done."""

    def write(session: Session) -> None:
        _close(session, _pending_hold(session, hold_id), "withheld")

    await db.write(write)


async def retry(db: Database, hold_id: int, archiver: Archiver) -> str | None:
    """Scrub the post again; None when it is now archived, else the new reason."""
    async with db.session() as session:
        hold = await session.get(ArchiveHold, hold_id)
        _check_pending(hold, hold_id)
        assert hold is not None
        inbound = await session.get(InboundMessage, hold.inbound_id)
        row = await session.get(MailingList, hold.list_id)
        assert inbound is not None
        assert row is not None
        if inbound.raw is None:
            raise InvalidInput(f"the original of archive hold #{hold_id} is gone")
        mailing_list = ListView.of(row)
        message = parse_message(inbound.raw)
        ids = keyed_ids(archiver.keys, mailing_list, message, inbound.raw)
        label = parse_label(inbound.label or "") or resolve(
            mailing_list.floor,
            label_of_message(message),
            await parent_label(session, mailing_list.id, ids.references),
        )
        if label is Tlp.RED:
            raise InvalidInput("TLP:RED posts are never archived")
        author = None
        if inbound.author_member_id is not None:
            member = await session.get(Member, inbound.author_member_id)
            author = member.email if member is not None else None
        registry = await load_registry(session)
        reader_ids = list(
            (await session.scalars(select(Member.id).where(col(Member.list_id) == row.id))).all()
        )
        plan = await archiver.prepare(
            session,
            mailing_list=mailing_list,
            raw=inbound.raw,
            ids=ids,
            label=label,
            author_key=author,
            received_at=inbound.received_at,
            registry=registry,
        )

    def write(session: Session) -> str | None:
        hold = _pending_hold(session, hold_id)
        if plan.form.hold_reason is not None:
            hold.reason = plan.form.hold_reason[:500]
            session.add(hold)
            return plan.form.hold_reason
        archiver.record(
            session,
            plan,
            inbound_id=hold.inbound_id,
            reader_ids=[r for r in reader_ids if r is not None],
            mailing_list=mailing_list,
        )
        _close(session, hold, "released")
        return None

    return await db.write(write)


def _close(session: Session, hold: ArchiveHold, state: str) -> None:
    hold.state = state
    hold.decided_at = utcnow()
    session.add(hold)
    session.flush()
    session.execute(
        update(InboundMessage)
        .where(col(InboundMessage.id) == hold.inbound_id)
        .values(review_pending=False)
    )
    release_raw(session, hold.inbound_id)


def _pending_hold(session: Session, hold_id: int) -> ArchiveHold:
    hold = session.get(ArchiveHold, hold_id)
    _check_pending(hold, hold_id)
    assert hold is not None
    return hold


def _check_pending(hold: ArchiveHold | None, hold_id: int) -> None:
    if hold is None:
        raise NotFound(f"no archive hold #{hold_id}")
    if hold.state != "pending":
        raise InvalidInput(f"archive hold #{hold_id} was already {hold.state}")


async def _list(session: AsyncSession, address: str) -> MailingList:
    found = (
        await session.scalars(
            select(MailingList).where(col(MailingList.address) == address.lower())
        )
    ).first()
    if found is None:
        raise NotFound(f"no list {address}")
    return found
