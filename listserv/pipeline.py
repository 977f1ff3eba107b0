"""The pipeline: takes committed messages in order and decides what happens.

    InboundMessage queued
      │  parse, find the author in the registry, resolve the TLP label
      │  (list floor, sender's tag, the label of the post it answers)
      │  posting_policy.decide(): discard > reject > hold > accept
      ├─ accept ──► archive form (scrub worker) ─┐
      │             distribution copy ───────────┤ one transaction: state, outbound
      │                                          ┘ copy + batches, archive post
      ├─ hold ────► reasons recorded, archive preview, tokens; every moderator gets a
      │             request mail, the poster a notice (at most hourly)
      ├─ reject ──► notice to the sender; raw deleted
      └─ discard ─► raw deleted

A message's processing either commits whole or not at all: the state change
is conditional on the row still being `queued`, so a crash or a second
process can never distribute it twice. A message whose processing raises is
retried after a pause; after `MAX_ATTEMPTS` it is held for a moderator with
the reason `processing-failed`, so it is never lost.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from email import policy
from email.message import EmailMessage
from email.parser import BytesParser

from sqlalchemy import insert, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from filters.auto_reply import is_auto_reply
from filters.dsn import failed_recipients
from filters.identities import Registry
from filters.tlp import Tlp, label_of_message, parse_label, resolve
from listserv.addresses import author_addresses
from listserv.archiving import ArchivePlan, Archiver, KeyedIds, keyed_ids
from listserv.config import Settings
from listserv.db import Database
from listserv.delivery import split_batches
from listserv.directory import Directory, ListView, MemberView
from listserv.distribution import list_identity, render_distribution
from listserv.dkim_signing import DkimSigner
from listserv.intake import AddressKind
from listserv.models import (
    DeliveryBatch,
    DeliveryFailure,
    InboundMessage,
    InboundState,
    Member,
    OutboundMessage,
    utcnow,
)
from listserv.moderation import (
    Action as ModerationAction,
)
from listserv.moderation import (
    decide_by_token,
    expire_and_purge,
    issue_tokens,
    moderator_request,
    notify_poster_held,
    reason_sentences,
    summary_of,
    verdict_notice,
)
from listserv.notices import build_notice, enqueue_notice, may_notify
from listserv.posting_policy import Action, Decision, Post, attachment_types, decide
from listserv.registry import bump_version
from listserv.waiting import wait_for_work

log = logging.getLogger(__name__)
decisions = logging.getLogger("listserv.decision")

LEASE = timedelta(minutes=5)
RETRY_PAUSE = timedelta(seconds=30)
MAX_ATTEMPTS = 5
IDLE_POLL_SECONDS = 1.0
HOUSEKEEPING_INTERVAL = timedelta(minutes=1)


class Superseded(Exception):
    """The message was decided elsewhere while we worked on it."""


@dataclass(frozen=True, slots=True)
class Claimed:
    id: int
    list_id: int
    kind: str
    detail: str
    mail_from: str
    raw: bytes
    received_at: datetime
    approved: bool = False  # a moderator approved it after it was held


async def parent_label(
    session: AsyncSession, list_id: int, references: tuple[str, ...]
) -> Tlp | None:
    """The strictest label among the list's accepted posts that a post answers."""
    if not references:
        return None
    labels = (
        await session.scalars(
            select(InboundMessage.label).where(
                col(InboundMessage.list_id) == list_id,
                col(InboundMessage.keyed_id).in_(references),
                col(InboundMessage.state) == InboundState.ACCEPTED.value,
            )
        )
    ).all()
    parsed = [label for text in labels if text and (label := parse_label(text)) is not None]
    return max(parsed, default=None)


def parse_message(raw: bytes) -> EmailMessage:
    message = BytesParser(policy=policy.default).parsebytes(raw)
    assert isinstance(message, EmailMessage)
    return message


class Pipeline:
    def __init__(
        self,
        db: Database,
        directory: Directory,
        archiver: Archiver,
        settings: Settings,
        *,
        wake: asyncio.Event,
        delivery_wake: asyncio.Event,
        clock: Callable[[], datetime] = utcnow,
    ) -> None:
        self._db = db
        self._directory = directory
        self._archiver = archiver
        self._settings = settings
        self._wake = wake
        self._delivery_wake = delivery_wake
        self._clock = clock
        self._failures: dict[int, int] = {}
        self._signer = DkimSigner.from_settings(settings)

    async def run(self, stopping: asyncio.Event) -> None:
        if self._db.is_sqlite:
            await self._forget_leases()
        housekeeping_due = self._clock()
        while not stopping.is_set():
            if self._clock() >= housekeeping_due:
                housekeeping_due = self._clock() + HOUSEKEEPING_INTERVAL
                await self._housekeeping()
            claimed = await self._claim()
            if claimed is None:
                await self._idle(stopping)
                continue
            await self._process_safely(claimed)

    async def _housekeeping(self) -> None:
        try:
            expired, purged = await expire_and_purge(self._db, self._clock())
        except Exception:
            log.exception("moderation housekeeping failed")
            return
        if expired or purged:
            decisions.info("housekeeping expired=%d purged=%d", expired, purged)
            self._delivery_wake.set()

    async def run_until_idle(self) -> None:
        """Process everything queued now (for the CLI and tests)."""
        while (claimed := await self._claim()) is not None:
            await self._process_safely(claimed)

    async def _idle(self, stopping: asyncio.Event) -> None:
        await wait_for_work(self._wake, stopping, IDLE_POLL_SECONDS)

    async def _forget_leases(self) -> None:
        async with self._db.transaction() as session:
            await session.execute(
                update(InboundMessage)
                .where(
                    col(InboundMessage.state) == InboundState.QUEUED.value,
                    col(InboundMessage.lease_until).is_not(None),
                )
                .values(lease_until=None)
            )

    async def _claim(self) -> Claimed | None:
        now = self._clock()
        async with self._db.transaction() as session:
            query = (
                select(
                    InboundMessage.id,
                    InboundMessage.list_id,
                    InboundMessage.kind,
                    InboundMessage.detail,
                    InboundMessage.mail_from,
                    InboundMessage.raw,
                    InboundMessage.received_at,
                    InboundMessage.moderation_reason,
                )
                .where(
                    col(InboundMessage.state) == InboundState.QUEUED.value,
                    or_(
                        col(InboundMessage.lease_until).is_(None),
                        col(InboundMessage.lease_until) < now,
                    ),
                )
                .order_by(col(InboundMessage.id))
                .limit(1)
                .with_for_update(skip_locked=True)
            )
            row = (await session.execute(query)).first()
            if row is None:
                return None
            await session.execute(
                update(InboundMessage)
                .where(col(InboundMessage.id) == row.id)
                .values(lease_until=now + LEASE)
            )
        return Claimed(
            id=row.id,
            list_id=row.list_id,
            kind=row.kind,
            detail=row.detail,
            mail_from=row.mail_from,
            raw=row.raw or b"",
            received_at=row.received_at,
            approved=row.moderation_reason == "approved",
        )

    async def _process_safely(self, claimed: Claimed) -> None:
        try:
            await self.process(claimed)
            self._failures.pop(claimed.id, None)
        except Superseded:
            log.info("inbound %d was decided elsewhere", claimed.id)
        except Exception:
            attempts = self._failures.get(claimed.id, 0) + 1
            self._failures[claimed.id] = attempts
            log.exception("processing inbound %d failed (attempt %d)", claimed.id, attempts)
            if attempts >= MAX_ATTEMPTS:
                await self._give_up(claimed)
            else:
                await self._pause(claimed.id)

    async def _pause(self, inbound_id: int) -> None:
        async with self._db.transaction() as session:
            await session.execute(
                update(InboundMessage)
                .where(col(InboundMessage.id) == inbound_id)
                .values(lease_until=self._clock() + RETRY_PAUSE)
            )

    async def _give_up(self, claimed: Claimed) -> None:
        async with self._db.transaction() as session:
            await self._set_state(session, claimed.id, InboundState.HELD, "processing-failed")
        decisions.info(
            "list_id=%d inbound=%d outcome=held reasons=processing-failed",
            claimed.list_id,
            claimed.id,
        )

    async def process(self, claimed: Claimed) -> None:
        mailing_list = await self._directory.list_by_id(claimed.list_id)
        if mailing_list is None:
            async with self._db.transaction() as session:
                await self._set_state(session, claimed.id, InboundState.DISCARDED, "no-such-list")
            return
        message = await asyncio.to_thread(parse_message, claimed.raw)
        if claimed.kind == AddressKind.BOUNCES.value:
            await self._bounce(claimed, mailing_list, message)
        elif claimed.kind == AddressKind.POST.value:
            await self._post(claimed, mailing_list, message)
        elif claimed.kind in (AddressKind.APPROVE.value, AddressKind.REJECT.value):
            await self._moderation_reply(claimed, mailing_list, message)
        else:
            async with self._db.transaction() as session:
                await self._set_state(
                    session, claimed.id, InboundState.DISCARDED, f"unhandled-{claimed.kind}"
                )

    async def _post(self, claimed: Claimed, mailing_list: ListView, message: EmailMessage) -> None:
        author = await self._author(mailing_list, message)
        ids = keyed_ids(self._archiver.keys, mailing_list, message, claimed.raw)
        parent = await self._parent_label(mailing_list, ids)
        label = resolve(mailing_list.floor, label_of_message(message), parent)
        post = Post(
            mailing_list=mailing_list,
            identity=list_identity(mailing_list, self._settings.web.base_url),
            message=message,
            envelope_sender=claimed.mail_from,
            author=author,
            label=label,
            size=len(claimed.raw),
            attachment_types=attachment_types(message),
            approved=claimed.approved,
        )
        decision = decide(post)
        if decision.action is Action.ACCEPT:
            await self._accept(claimed, post, ids)
            return
        if decision.action is Action.HOLD:
            await self._hold(claimed, post, ids, decision)
            return
        state = {
            Action.HOLD: InboundState.HELD,
            Action.REJECT: InboundState.REJECTED,
            Action.DISCARD: InboundState.DISCARDED,
        }[decision.action]
        async with self._db.transaction() as session:
            await self._set_state(session, claimed.id, state, decision.codes, label=label)
            if decision.action is Action.REJECT:
                await self._notify_rejection(session, post, decision)
        self._log(mailing_list, claimed, ids, state.value, decision.codes, label)
        self._delivery_wake.set()

    async def _author(self, mailing_list: ListView, message: EmailMessage) -> MemberView | None:
        for address in author_addresses(message):
            member = await self._directory.member(mailing_list.id, address)
            if member is not None:
                return member
        return None

    async def _parent_label(self, mailing_list: ListView, ids: KeyedIds) -> Tlp | None:
        async with self._db.session() as session:
            return await parent_label(session, mailing_list.id, ids.references)

    async def _accept(self, claimed: Claimed, post: Post, ids: KeyedIds) -> None:
        mailing_list = post.mailing_list
        snapshot = await self._directory.current()
        members = snapshot.members.get(mailing_list.id, {})
        recipients = [m.email for m in members.values() if m.delivery_enabled]
        plan = await self._archive_plan(claimed, post, ids, snapshot.registry)
        archived_at = (
            self._archiver.url_of(mailing_list, ids.message_id)
            if plan is not None and not plan.held
            else None
        )
        content = await asyncio.to_thread(
            render_distribution,
            post.message,
            mailing_list,
            post.label,
            base_url=self._settings.web.base_url,
            archived_at=archived_at,
            signer=self._signer,
        )
        batches = split_batches(recipients, self._settings.delivery.max_recipients_per_transaction)
        archive_outcome = "none" if plan is None else ("held" if plan.held else "stored")
        async with self._db.transaction() as session:
            await self._set_state(
                session,
                claimed.id,
                InboundState.ACCEPTED,
                "ok",
                label=post.label,
                keyed_id=ids.message_id,
                author_member_id=post.author.id if post.author else None,
                review_pending=plan is not None and plan.held,
                keep_raw=True,
            )
            if batches:
                outbound = OutboundMessage(
                    inbound_id=claimed.id,
                    list_id=mailing_list.id,
                    kind="post",
                    envelope_from=mailing_list.bounce_address,
                    content=content,
                    batches_open=len(batches),
                )
                session.add(outbound)
                await session.flush()
                await session.execute(
                    insert(DeliveryBatch),
                    [
                        {
                            "outbound_id": outbound.id,
                            "recipients": "\n".join(batch),
                            "state": "pending",
                            "attempts": 0,
                            "next_attempt_at": self._clock(),
                            "last_error": "",
                            "created_at": self._clock(),
                        }
                        for batch in batches
                    ],
                )
            if plan is not None:
                await self._archiver.record(
                    session,
                    plan,
                    inbound_id=claimed.id,
                    reader_ids=[m.id for m in members.values()],
                    mailing_list=mailing_list,
                )
            if not batches and (plan is None or not plan.held):
                await self._drop_raw(session, claimed.id)
            if post.author is not None:
                await self._count_post(session, post.author)
        self._delivery_wake.set()
        self._log(
            mailing_list,
            claimed,
            ids,
            "accepted",
            f"ok recipients={len(recipients)} archive={archive_outcome}",
            post.label,
        )

    async def _archive_plan(
        self, claimed: Claimed, post: Post, ids: KeyedIds, registry: Registry
    ) -> ArchivePlan | None:
        """The archive form the post would get; None for TLP:RED, which is never archived."""
        if post.label is Tlp.RED:
            return None
        async with self._db.session() as session:
            return await self._archiver.prepare(
                session,
                mailing_list=post.mailing_list,
                raw=claimed.raw,
                ids=ids,
                label=post.label,
                author_key=post.author.email if post.author else None,
                received_at=claimed.received_at,
                registry=registry,
            )

    async def _count_post(self, session: AsyncSession, author: MemberView) -> None:
        await session.execute(
            update(Member)
            .where(col(Member.id) == author.id)
            .values(posts_accepted=Member.posts_accepted + 1)
        )
        if author.posts_accepted == 0:
            # The first-post rule reads this through the directory: refresh it.
            await bump_version(session)

    async def _hold(self, claimed: Claimed, post: Post, ids: KeyedIds, decision: Decision) -> None:
        mailing_list = post.mailing_list
        snapshot = await self._directory.current()
        preview, flags = "", ()
        plan = await self._archive_plan(claimed, post, ids, snapshot.registry)
        if plan is not None:
            if plan.form.hold_reason is None:
                preview, flags = plan.form.text, tuple(str(f) for f in plan.form.flags)
            else:
                preview = f"(the archive copy would be held: {plan.form.hold_reason})"
        now = self._clock()
        expires_at = now + timedelta(days=mailing_list.token_expiry_days)
        reasons = reason_sentences(decision.codes)
        sender, subject, first_lines = summary_of(post.message)
        moderators = await self._directory.moderators(mailing_list.id)
        async with self._db.transaction() as session:
            await self._set_state(
                session,
                claimed.id,
                InboundState.HELD,
                decision.codes,
                label=post.label,
                keyed_id=ids.message_id,
                author_member_id=post.author.id if post.author else None,
                extra={"held_at": now, "preview_text": preview, "preview_flags": list(flags)},
            )
            tokens = await issue_tokens(session, claimed.id, expires_at)
            for moderator in moderators:
                request = moderator_request(
                    mailing_list,
                    moderator=moderator.email,
                    sender=sender,
                    subject=subject,
                    first_lines=first_lines,
                    label=post.label.label,
                    reasons=reasons,
                    preview=preview,
                    flags=flags,
                    tokens=tokens,
                    expires_at=expires_at,
                )
                await enqueue_notice(session, mailing_list, request, moderator.email)
            await notify_poster_held(
                session,
                mailing_list,
                recipient=post.envelope_sender,
                subject=subject,
                reasons=reasons,
                in_reply_to=str(post.message.get("Message-ID", "") or "") or None,
                now=now,
            )
        self._delivery_wake.set()
        self._log(
            mailing_list,
            claimed,
            ids,
            "held",
            f"{decision.codes} moderators={len(moderators)}",
            post.label,
        )

    async def _moderation_reply(
        self, claimed: Claimed, mailing_list: ListView, message: EmailMessage
    ) -> None:
        action = ModerationAction(claimed.kind)
        senders = author_addresses(message)
        sender = senders[0] if senders else claimed.mail_from
        now = self._clock()
        async with self._db.transaction() as session:
            result = await decide_by_token(
                session,
                list_id=mailing_list.id,
                token=claimed.detail,
                action=action,
                sender=sender,
                reply=message,
                now=now,
            )
            await self._set_state(
                session, claimed.id, InboundState.DISCARDED, f"moderation-{result.verdict.value}"
            )
            if may_notify(sender) and not is_auto_reply(message):
                notice = verdict_notice(
                    mailing_list,
                    to=sender,
                    verdict=result.verdict,
                    subject=str(message.get("Subject", "") or ""),
                    in_reply_to=str(message.get("Message-ID", "") or "") or None,
                )
                await enqueue_notice(session, mailing_list, notice, sender)
        decisions.info(
            "list=%s inbound=%d outcome=moderation-%s action=%s held=%s",
            mailing_list.address,
            claimed.id,
            result.verdict.value,
            action.value,
            result.inbound_id,
        )
        self._wake.set()
        self._delivery_wake.set()

    async def _bounce(
        self, claimed: Claimed, mailing_list: ListView, message: EmailMessage
    ) -> None:
        failed = failed_recipients(message)
        async with self._db.transaction() as session:
            for failure in failed:
                session.add(
                    DeliveryFailure(
                        list_id=mailing_list.id,
                        address=failure.address,
                        code=int(failure.status[0]) * 100 + 50,
                        reason=f"{failure.status} {failure.diagnostic}".strip(),
                    )
                )
                await session.execute(
                    update(Member)
                    .where(
                        col(Member.list_id) == mailing_list.id,
                        col(Member.email) == failure.address,
                    )
                    .values(bounce_score=Member.bounce_score + 1)
                )
            await self._set_state(
                session, claimed.id, InboundState.DISCARDED, f"bounce failures={len(failed)}"
            )

    async def _notify_rejection(
        self, session: AsyncSession, post: Post, decision: Decision
    ) -> None:
        recipient = post.envelope_sender
        if not may_notify(recipient):
            return
        reasons = "\n".join(f"- {reason.explanation}" for reason in decision.reasons)
        subject = str(post.message.get("Subject", "") or "")
        notice = build_notice(
            post.mailing_list,
            to=recipient,
            subject=f"Your post to {post.mailing_list.name} was rejected",
            body=(
                f"Your message to {post.mailing_list.address} "
                f"(subject: {subject[:120]!r}) was not distributed:\n\n{reasons}\n\n"
                f"Questions go to the list owners at {post.mailing_list.owner_address}."
            ),
            in_reply_to=str(post.message.get("Message-ID", "") or "") or None,
        )
        await enqueue_notice(session, post.mailing_list, notice, recipient)

    async def _set_state(
        self,
        session: AsyncSession,
        inbound_id: int,
        state: InboundState,
        reasons: str,
        *,
        label: Tlp | None = None,
        keyed_id: str | None = None,
        author_member_id: int | None = None,
        review_pending: bool = False,
        keep_raw: bool = False,
        extra: dict[str, object] | None = None,
    ) -> None:
        values: dict[str, object] = {
            "state": state.value,
            "reasons": reasons,
            "decided_at": self._clock(),
            "lease_until": None,
            "review_pending": review_pending,
        }
        if label is not None:
            values["label"] = label.label
        if keyed_id is not None:
            values["keyed_id"] = keyed_id
        if author_member_id is not None:
            values["author_member_id"] = author_member_id
        values.update(extra or {})
        if state in (InboundState.REJECTED, InboundState.DISCARDED) or (
            not keep_raw and state is not InboundState.HELD
        ):
            values["raw"] = None
        result = await session.execute(
            update(InboundMessage)
            .where(
                col(InboundMessage.id) == inbound_id,
                col(InboundMessage.state) == InboundState.QUEUED.value,
            )
            .values(**values)
        )
        if result.rowcount != 1:  # type: ignore[attr-defined]
            raise Superseded(inbound_id)

    async def _drop_raw(self, session: AsyncSession, inbound_id: int) -> None:
        await session.execute(
            update(InboundMessage).where(col(InboundMessage.id) == inbound_id).values(raw=None)
        )

    def _log(
        self,
        mailing_list: ListView,
        claimed: Claimed,
        ids: KeyedIds,
        outcome: str,
        reasons: str,
        label: Tlp,
    ) -> None:
        decisions.info(
            "list=%s inbound=%d id=%s outcome=%s label=%s reasons=%s",
            mailing_list.address,
            claimed.id,
            ids.message_id,
            outcome,
            label.label,
            reasons,
        )
