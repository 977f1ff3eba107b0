"""SMTP intake: the aiosmtpd hooks that decide what we accept (DESIGN, "Intake").

    RCPT  unknown list ............................ 550 5.1.1
    DATA  over max_message_size ................... 552 5.3.4
          From: not a member, list rejects them ... 550 5.7.1 (a sentence why)
          TLP:RED on a list that refuses RED ...... 550 5.7.1
          otherwise: raw bytes committed ▸ 250 2.6.0

Everything else (loops, auto-replies, holds, discards) is decided by the
pipeline after the message is safely stored: a `250` is only ever given for
bytes already on disk, and the slow decisions stay off the SMTP path.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass
from datetime import UTC, datetime
from email import policy
from email.message import EmailMessage, Message
from email.parser import BytesParser
from enum import StrEnum
from typing import Any

from aiosmtpd.smtp import SMTP, Envelope, Session

from filters.tlp import Tlp, label_of_message
from listserv import smtp_replies as replies
from listserv.addresses import author_addresses, try_normalise
from listserv.directory import Directory, ListView
from listserv.intake_queue import IntakeQueue, QueuedMessage
from listserv.models import NonMemberPolicy, RedPolicy

log = logging.getLogger(__name__)

# The label check at DATA time reads only the head of a message: labels live
# in the subject, a header, or the first lines of the body.
PEEK_BYTES = 64 * 1024
MAX_LISTS_PER_MESSAGE = 20


class AddressKind(StrEnum):
    POST = "post"  # LIST@DOMAIN
    BOUNCES = "bounces"  # LIST-bounces@DOMAIN: delivery status notifications
    APPROVE = "approve"  # LIST-approve+TOKEN@DOMAIN: a moderator's one-mail approval
    REJECT = "reject"  # LIST-reject+TOKEN@DOMAIN


@dataclass(frozen=True, slots=True)
class ListAddress:
    mailing_list: ListView
    kind: AddressKind
    detail: str = ""


async def resolve_address(directory: Directory, address: str) -> ListAddress | None:
    """Which list, and which of its addresses, `address` is; None if none."""
    normalised = try_normalise(address)
    if normalised is None:
        return None
    found = await directory.list_by_address(normalised)
    if found is not None:
        return ListAddress(found, AddressKind.POST)
    local, _, domain = normalised.rpartition("@")
    base, dash, suffix = local.rpartition("-")
    if not dash:
        return None
    name, _, detail = suffix.partition("+")
    try:
        kind = AddressKind(name)
    except ValueError:
        return None
    if kind is AddressKind.POST or (detail and kind is AddressKind.BOUNCES):
        return None
    found = await directory.list_by_address(f"{base}@{domain}")
    return ListAddress(found, kind, detail) if found is not None else None


def peek(raw: bytes) -> EmailMessage:
    """The message parsed from its first PEEK_BYTES: headers and opening lines."""
    message = BytesParser(policy=policy.default).parsebytes(raw[:PEEK_BYTES])
    assert isinstance(message, EmailMessage)
    return message


class IntakeHandler:
    def __init__(self, directory: Directory, queue: IntakeQueue) -> None:
        self._directory = directory
        self._queue = queue
        self.accepting = True

    async def handle_EHLO(
        self,
        server: SMTP,
        session: Session,
        envelope: Envelope,
        hostname: str,
        responses: list[str],
    ) -> list[str]:
        session.host_name = hostname
        # RFC 2034: our replies carry enhanced status codes; say so.
        return [*responses[:-1], "250-ENHANCEDSTATUSCODES", responses[-1]]

    async def handle_MAIL(
        self, server: SMTP, session: Session, envelope: Envelope, address: str, options: list[str]
    ) -> str:
        if not self.accepting:
            return str(replies.SHUTTING_DOWN)
        envelope.mail_from = address
        envelope.mail_options.extend(options)
        return str(replies.SENDER_OK)

    async def handle_RCPT(
        self, server: SMTP, session: Session, envelope: Envelope, address: str, options: list[str]
    ) -> str:
        target = await resolve_address(self._directory, address)
        if target is None:
            return str(replies.UNKNOWN_LIST)
        if len(envelope.rcpt_tos) >= MAX_LISTS_PER_MESSAGE:
            return str(replies.TOO_MANY_LISTS)
        envelope.rcpt_tos.append(address)
        envelope.rcpt_options.extend(options)
        return str(replies.RECIPIENT_OK)

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        if not self.accepting:
            return str(replies.SHUTTING_DOWN)
        raw = envelope.original_content
        assert isinstance(raw, bytes)
        targets = [
            target
            for target in [await resolve_address(self._directory, r) for r in envelope.rcpt_tos]
            if target is not None
        ]
        refusal = await self._refusal(raw, targets)
        if refusal is not None:
            return refusal
        received_at = datetime.now(UTC)
        queued = [
            QueuedMessage(
                list_id=target.mailing_list.id,
                kind=target.kind.value,
                detail=target.detail,
                mail_from=_reverse_path(envelope.mail_from),
                raw=raw,
                received_at=received_at,
            )
            for target in dict.fromkeys(targets)
        ]
        try:
            ids = await self._queue.commit(queued)
        except Exception:
            log.exception("could not store a message from %s", session.peer)
            return str(replies.TEMPORARY_FAILURE)
        log.info("stored inbound %s for %s", ",".join(map(str, ids)), _names(targets))
        return str(replies.ACCEPTED)

    async def handle_exception(self, error: Exception) -> str:
        log.exception("SMTP session failed", exc_info=error)
        return str(replies.TEMPORARY_FAILURE)

    async def _refusal(self, raw: bytes, targets: list[ListAddress]) -> str | None:
        """The 5xx reply if every list this message is for refuses it, else None.

        One DATA command gets one reply for all its recipients (RFC 5321
        §4.2.5), so a message for two lists, one of which would take it, is
        accepted; the pipeline then decides per list and notifies the sender.
        Only lists that refuse something at all cost a look at the message.
        """
        posts = [t.mailing_list for t in targets if t.kind is AddressKind.POST]
        if not posts or len(posts) != len(targets):
            return None
        if any(not _refuses_anything(mailing_list) for mailing_list in posts):
            return None
        headers = parse_headers(raw)
        authors = author_addresses(headers)
        label: Tlp | None = None
        if any(m.red_policy is RedPolicy.REFUSE for m in posts):
            # The label may be on the first lines of the body: read the head.
            message = await asyncio.to_thread(peek, raw) if len(raw) > PEEK_BYTES else peek(raw)
            label = label_of_message(message)
        reasons: list[str] = []
        for mailing_list in posts:
            reason = await self._list_refusal(mailing_list, authors, label)
            if reason is None:
                return None
            reasons.append(reason)
        return reasons[0]

    async def _list_refusal(
        self, mailing_list: ListView, authors: list[str], label: Tlp | None
    ) -> str | None:
        is_member = False
        for author in authors:
            if await self._directory.member(mailing_list.id, author) is not None:
                is_member = True
        if not is_member and mailing_list.nonmember_policy is NonMemberPolicy.REJECT:
            return str(replies.NOT_A_MEMBER)
        if mailing_list.red_policy is RedPolicy.REFUSE and label is Tlp.RED:
            return str(replies.RED_REFUSED)
        return None


def _refuses_anything(mailing_list: ListView) -> bool:
    return (
        mailing_list.nonmember_policy is NonMemberPolicy.REJECT
        or mailing_list.red_policy is RedPolicy.REFUSE
    )


def parse_headers(raw: bytes) -> Message:
    """The header section only, parsed the cheap way (compat32, no body)."""
    return BytesParser(policy=policy.compat32).parsebytes(raw, headersonly=True)


def _reverse_path(mail_from: str | None) -> str:
    """The envelope sender, "" for the null reverse-path `<>` (RFC 5321 §4.5.5).

    aiosmtpd keeps `<>` literally, since its own checks need a non-empty value.
    """
    return "" if not mail_from or mail_from.strip() == "<>" else mail_from


def _names(targets: list[ListAddress]) -> str:
    return ",".join(f"{t.mailing_list.address}:{t.kind.value}" for t in targets)


class ListservSMTP(SMTP):
    """aiosmtpd's protocol with our reply wording for the checks it makes itself."""

    def __init__(self, handler: IntakeHandler, **options: Any) -> None:
        super().__init__(handler, **options)

    async def push(self, status: str) -> None:
        rewrite = replies.AIOSMTPD_REWRITES.get(status)
        await super().push(str(rewrite) if rewrite is not None else status)
