"""The pipeline: takes committed messages in order and decides what happens.

    InboundMessage queued (listserv/inbound.py)
      │  headers only: the author in the registry, keyed ids, the parent's label
      │  posting_policy.decide() on what the headers tell: loops, auto-replies
      │  and refused senders end here, unrendered
      │  the post worker (another process) parses the whole post, resolves its
      │  TLP label, makes the archive form and the distribution copy
      │  posting_policy.decide() again, now knowing label and attachments:
      │  discard > reject > hold > accept
      ├─ accept ──► one transaction: state, the outbound copy and its delivery
      │             batches, the archive post (or its hold)
      ├─ hold ────► reasons, archive preview, tokens; every moderator gets a
      │             request mail, the poster a notice (at most hourly)
      ├─ reject ──► notice to the sender; raw deleted
      └─ discard ─► raw deleted

The server's event loop does only the database work; parsing, scrubbing and
rendering happen in the post worker. A message's processing commits whole or
not at all (the state change is conditional on the row still being queued),
so a crash or a second process never decides it twice. A message whose
processing raises is retried after a pause; after MAX_ATTEMPTS it is held for
a moderator with the reason `processing-failed`, so it is never lost.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from dataclasses import replace
from datetime import datetime, timedelta
from email.message import Message

from sqlalchemy import insert, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Session
from sqlmodel import col

from filters.tlp import Tlp, resolve
from listserv.addresses import author_addresses
from listserv.archiving import ArchivePlan, Archiver, ArchiveTarget, KeyedIds, keyed_ids
from listserv.config import Settings
from listserv.db import Database
from listserv.delivery import split_batches
from listserv.directory import Directory, ListView, MemberView, Snapshot
from listserv.distribution import list_identity
from listserv.dkim_signing import DkimSigner
from listserv.inbound import Claimed, InboundQueue, Superseded, parent_label
from listserv.intake import AddressKind, parse_headers
from listserv.list_robots import moderation_reply, record_bounce
from listserv.models import DeliveryBatch, InboundState, Member, OutboundMessage, utcnow
from listserv.moderation import Action as ModerationAction
from listserv.moderation import (
    TokenReply,
    expire_and_purge,
    issue_tokens,
    moderator_request,
    notify_poster_held,
    reason_sentences,
)
from listserv.notices import build_notice, may_notify, queue_notice
from listserv.post_rendering import Rendering, RenderRequest, parse_message
from listserv.post_worker import PostWorker
from listserv.posting_policy import Action, Decision, Post, decide
from listserv.waiting import wait_for_work

log = logging.getLogger(__name__)
decisions = logging.getLogger("listserv.decision")

MAX_ATTEMPTS = 5
IDLE_POLL_SECONDS = 1.0
HOUSEKEEPING_INTERVAL = timedelta(minutes=1)
FINAL_STATES = {
    Action.HOLD: InboundState.HELD,
    Action.REJECT: InboundState.REJECTED,
    Action.DISCARD: InboundState.DISCARDED,
}


class Pipeline:
    def __init__(
        self,
        db: Database,
        directory: Directory,
        archiver: Archiver,
        worker: PostWorker,
        settings: Settings,
        *,
        wake: asyncio.Event,
        delivery_wake: asyncio.Event,
        clock: Callable[[], datetime] = utcnow,
    ) -> None:
        self._db = db
        self._directory = directory
        self._archiver = archiver
        self._worker = worker
        self._settings = settings
        self._wake = wake
        self._delivery_wake = delivery_wake
        self._clock = clock
        self._queue = InboundQueue(db, clock)
        self._failures: dict[int, int] = {}
        self._signer = DkimSigner.from_settings(settings)

    async def run(self, stopping: asyncio.Event) -> None:
        await self._queue.forget_leases()
        housekeeping_due = self._clock()
        while not stopping.is_set():
            if self._clock() >= housekeeping_due:
                housekeeping_due = self._clock() + HOUSEKEEPING_INTERVAL
                await self._housekeeping()
            claimed = await self._queue.claim()
            if claimed is None:
                await wait_for_work(self._wake, stopping, IDLE_POLL_SECONDS)
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
            if attempts < MAX_ATTEMPTS:
                await self._queue.pause(claimed.id)
                return
            await self._db.write(
                lambda session: self._queue.set_state(
                    session, claimed.id, InboundState.HELD, "processing-failed"
                )
            )
            decisions.info(
                "list_id=%d inbound=%d outcome=held reasons=processing-failed",
                claimed.list_id,
                claimed.id,
            )

    async def process(self, claimed: Claimed) -> None:
        mailing_list = await self._directory.list_by_id(claimed.list_id)
        if mailing_list is None:
            await self._finish(claimed.id, InboundState.DISCARDED, "no-such-list")
            return
        if claimed.kind == AddressKind.POST.value:
            await self._post(claimed, mailing_list)
        elif claimed.kind == AddressKind.BOUNCES.value:
            report = await asyncio.to_thread(parse_message, claimed.raw)

            def write(session: Session) -> None:
                failed = record_bounce(session, mailing_list, report)
                self._queue.set_state(
                    session, claimed.id, InboundState.DISCARDED, f"bounce failures={failed}"
                )

            await self._db.write(write)
        elif claimed.kind in (AddressKind.APPROVE.value, AddressKind.REJECT.value):
            await self._moderation_reply(claimed, mailing_list)
        else:
            await self._finish(claimed.id, InboundState.DISCARDED, f"unhandled-{claimed.kind}")

    async def _finish(self, inbound_id: int, state: InboundState, reasons: str) -> None:
        await self._db.write(
            lambda session: self._queue.set_state(session, inbound_id, state, reasons)
        )

    async def _post(self, claimed: Claimed, mailing_list: ListView) -> None:
        headers = parse_headers(claimed.raw)
        snapshot = await self._directory.current()
        author = _author(snapshot, mailing_list, headers)
        ids = keyed_ids(self._archiver.keys, mailing_list, headers, claimed.raw)
        async with self._db.session() as session:
            parent = await parent_label(session, mailing_list.id, ids.references)
            if mailing_list.first_post_moderated and author and author.posts_accepted == 0:
                author = await _with_posts_accepted(session, author)
        post = Post(
            mailing_list=mailing_list,
            identity=list_identity(mailing_list, self._settings.web.base_url),
            message=headers,
            envelope_sender=claimed.mail_from,
            author=author,
            label=resolve(mailing_list.floor, None, parent),  # at least this
            size=len(claimed.raw),
            approved=claimed.approved,
        )
        early = decide(post)
        if early.action in (Action.DISCARD, Action.REJECT):
            await self._refuse(claimed, post, ids, early)
            return
        target = await self._archive_target(claimed, post, ids, snapshot)
        rendering = await self._worker.render(
            RenderRequest(
                raw=claimed.raw,
                mailing_list=mailing_list,
                parent_label=parent,
                base_url=self._settings.web.base_url,
                archive=target.context if target is not None else None,
                archived_at=self._archiver.url_of(mailing_list, ids.message_id),
                signer=self._signer,
            ),
            snapshot.registry,
            snapshot.fingerprint,
        )
        post = replace(post, label=rendering.label, attachment_types=rendering.attachment_types)
        decision = decide(post)
        plan = (
            target.plan(rendering.form, rendering.label)
            if target is not None and rendering.form is not None
            else None
        )
        if decision.action is Action.ACCEPT:
            await self._accept(claimed, post, ids, rendering, plan, snapshot)
        elif decision.action is Action.HOLD:
            await self._hold(claimed, post, ids, decision, rendering)
        else:
            await self._refuse(claimed, post, ids, decision)

    async def _archive_target(
        self, claimed: Claimed, post: Post, ids: KeyedIds, snapshot: Snapshot
    ) -> ArchiveTarget | None:
        if post.label is Tlp.RED:  # the parent is RED, so this post is too
            return None
        async with self._db.session() as session:
            return await self._archiver.target(
                session,
                mailing_list=post.mailing_list,
                ids=ids,
                label=post.label,
                author_key=post.author.email if post.author else None,
                received_at=claimed.received_at,
                registry=snapshot.registry,
            )

    async def _accept(
        self,
        claimed: Claimed,
        post: Post,
        ids: KeyedIds,
        rendering: Rendering,
        plan: ArchivePlan | None,
        snapshot: Snapshot,
    ) -> None:
        mailing_list = post.mailing_list
        members = snapshot.members.get(mailing_list.id, {})
        recipients = [m.email for m in members.values() if m.delivery_enabled]
        batches = split_batches(recipients, self._settings.delivery.max_recipients_per_transaction)
        held_archive = plan is not None and plan.held
        now = self._clock()

        def write(session: Session) -> None:
            self._queue.set_state(
                session,
                claimed.id,
                InboundState.ACCEPTED,
                "ok",
                label=post.label,
                keyed_id=ids.message_id,
                author_member_id=post.author.id if post.author else None,
                review_pending=held_archive,
                keep_raw=True,
            )
            if batches:
                outbound = OutboundMessage(
                    inbound_id=claimed.id,
                    list_id=mailing_list.id,
                    kind="post",
                    envelope_from=mailing_list.bounce_address,
                    content=rendering.distribution,
                    batches_open=len(batches),
                )
                session.add(outbound)
                session.flush()
                session.execute(
                    insert(DeliveryBatch),
                    [
                        {
                            "outbound_id": outbound.id,
                            "recipients": "\n".join(batch),
                            "state": "pending",
                            "attempts": 0,
                            "next_attempt_at": now,
                            "last_error": "",
                            "created_at": now,
                        }
                        for batch in batches
                    ],
                )
            elif not held_archive:
                self._queue.drop_raw(session, claimed.id)
            if plan is not None:
                self._archiver.record(
                    session,
                    plan,
                    inbound_id=claimed.id,
                    reader_ids=[m.id for m in members.values()],
                    mailing_list=mailing_list,
                )
            if post.author is not None:
                _count_post(session, post.author)

        await self._db.write(write)
        self._delivery_wake.set()
        archive = "none" if plan is None else ("held" if plan.held else "stored")
        self._log(
            mailing_list,
            claimed,
            ids,
            "accepted",
            f"ok recipients={len(recipients)} archive={archive}",
            post.label,
        )

    async def _hold(
        self,
        claimed: Claimed,
        post: Post,
        ids: KeyedIds,
        decision: Decision,
        rendering: Rendering,
    ) -> None:
        mailing_list = post.mailing_list
        preview, flags = "", ()
        if rendering.form is not None:
            if rendering.form.hold_reason is None:
                preview = rendering.form.text
                flags = tuple(str(flag) for flag in rendering.form.flags)
            else:
                preview = f"(the archive copy would be held: {rendering.form.hold_reason})"
        now = self._clock()
        expires_at = now + timedelta(days=mailing_list.token_expiry_days)
        reasons = reason_sentences(decision.codes)
        summary = rendering.summary
        moderators = await self._directory.moderators(mailing_list.id)

        def write(session: Session) -> None:
            self._queue.set_state(
                session,
                claimed.id,
                InboundState.HELD,
                decision.codes,
                label=post.label,
                keyed_id=ids.message_id,
                author_member_id=post.author.id if post.author else None,
                extra={"held_at": now, "preview_text": preview, "preview_flags": list(flags)},
            )
            tokens = issue_tokens(session, claimed.id, expires_at)
            for moderator in moderators:
                request = moderator_request(
                    mailing_list,
                    moderator=moderator.email,
                    sender=summary.sender,
                    subject=summary.subject,
                    first_lines=summary.first_lines,
                    label=post.label.label,
                    reasons=reasons,
                    preview=preview,
                    flags=flags,
                    tokens=tokens,
                    expires_at=expires_at,
                )
                queue_notice(session, mailing_list, request, moderator.email)
            notify_poster_held(
                session,
                mailing_list,
                recipient=post.envelope_sender,
                subject=summary.subject,
                reasons=reasons,
                in_reply_to=str(post.message.get("Message-ID", "") or "") or None,
                now=now,
            )

        await self._db.write(write)
        self._delivery_wake.set()
        self._log(
            mailing_list,
            claimed,
            ids,
            "held",
            f"{decision.codes} moderators={len(moderators)}",
            post.label,
        )

    async def _refuse(
        self, claimed: Claimed, post: Post, ids: KeyedIds, decision: Decision
    ) -> None:
        state = FINAL_STATES[decision.action]

        def write(session: Session) -> None:
            self._queue.set_state(session, claimed.id, state, decision.codes, label=post.label)
            if decision.action is Action.REJECT:
                _notify_rejection(session, post, decision)

        await self._db.write(write)
        self._log(post.mailing_list, claimed, ids, state.value, decision.codes, post.label)
        self._delivery_wake.set()

    async def _moderation_reply(self, claimed: Claimed, mailing_list: ListView) -> None:
        reply = await asyncio.to_thread(parse_message, claimed.raw)
        action = ModerationAction(claimed.kind)
        now = self._clock()

        def write(session: Session) -> TokenReply:
            result = moderation_reply(
                session,
                mailing_list,
                reply,
                action=action,
                token=claimed.detail,
                envelope_sender=claimed.mail_from,
                now=now,
            )
            self._queue.set_state(
                session, claimed.id, InboundState.DISCARDED, f"moderation-{result.verdict.value}"
            )
            return result

        result = await self._db.write(write)
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


def _author(snapshot: Snapshot, mailing_list: ListView, headers: Message) -> MemberView | None:
    members = snapshot.members.get(mailing_list.id, {})
    for address in author_addresses(headers):
        member = members.get(address)
        if member is not None:
            return member
    return None


async def _with_posts_accepted(session: AsyncSession, author: MemberView) -> MemberView:
    """The author with the count as the database has it now.

    The directory's snapshot is not reloaded for a post count (reloading
    10,000 members stalled the server for half a second at every member's
    first post); the count only ever grows, so a snapshot's nonzero count is
    true and only a zero needs this look.
    """
    count = await session.scalar(select(Member.posts_accepted).where(col(Member.id) == author.id))
    return replace(author, posts_accepted=count or 0)


def _count_post(session: Session, author: MemberView) -> None:
    session.execute(
        update(Member)
        .where(col(Member.id) == author.id)
        .values(posts_accepted=Member.posts_accepted + 1)
    )


def _notify_rejection(session: Session, post: Post, decision: Decision) -> None:
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
    queue_notice(session, post.mailing_list, notice, recipient)
