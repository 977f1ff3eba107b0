"""Filling a test database the way the server does, and signing in through the web."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from email import message_from_bytes, policy
from email.message import EmailMessage

import httpx
from sqlalchemy import select
from sqlalchemy.orm import Session
from sqlmodel import col

from archive import store
from archive.models import ArchivePost
from filters.archive_ids import keyed_message_id
from filters.deattribute import ArchivedAttachment, ArchiveForm
from filters.tlp import Tlp, parse_label
from listserv import registry
from listserv.db import Database
from listserv.keys import Keys, keyed_digest
from listserv.models import DeliveryBatch, Member, OutboundMessage
from tests.support.relay import RecordingRelay
from tests.support.waiting import eventually

CSRF_FIELD = re.compile(r'name="csrf_token" value="([^"]+)"')
LINK = re.compile(r"https?://\S+/signin/link/[A-Za-z0-9_-]+")


class Clock:
    """A clock the app factory calls; tests move it forward."""

    def __init__(self, start: datetime | None = None) -> None:
        self.now = start or datetime(2026, 3, 2, 9, 0, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.now

    def advance(self, delta: timedelta) -> None:
        self.now += delta


async def add_list(db: Database, address: str, members: Sequence[tuple[str, str]]) -> None:
    """A list with (email, role) members, through the registry the CLI uses."""
    async with db.transaction() as session:
        created = await registry.create_list(session, address, name=address.split("@")[0].upper())
        await registry.import_members(
            session,
            created,
            [registry.member_details(email, role=role) for email, role in members],
        )


async def member_ids(db: Database, list_address: str) -> dict[str, int]:
    async with db.session() as session:
        mailing_list = await registry.get_list(session, list_address)
        rows = (
            await session.scalars(select(Member).where(col(Member.list_id) == mailing_list.id))
        ).all()
    return {row.email: row.id for row in rows if row.id is not None}


@dataclass(frozen=True)
class Archived:
    token: str
    message_id: str
    thread_id: int


async def archive_post(
    db: Database,
    keys: Keys,
    list_address: str,
    *,
    original_id: str,
    subject: str = "Phishing wave against operators",
    text: str = "We see a phishing wave using evil-phish.example.",
    label: str = "TLP:AMBER",
    participant: str = "Participant A",
    author: str | None = "alice@operator-a.example",
    replying_to: Sequence[str] = (),
    attachments: Sequence[ArchivedAttachment] = (),
    readers: Sequence[str] = (),
    date: datetime | None = None,
) -> Archived:
    """Store an archive form with archive.store, as the pipeline's archiver does."""
    domain = list_address.rsplit("@", 1)[1]
    key = keys.archive_id_key(list_address)
    message_id = keyed_message_id(key, original_id, domain)
    references = tuple(keyed_message_id(key, r, domain) for r in replying_to)
    tlp = parse_label(label)
    assert tlp is not None
    form_message = EmailMessage()
    form_message["From"] = f"{participant} <participant@archive.invalid>"
    form_message["Subject"] = subject
    form_message["Message-ID"] = message_id
    form_message.set_content(text)
    async with db.session() as session:
        mailing_list = await registry.get_list(session, list_address)
        assert mailing_list.id is not None
        placement = await store.place(session, mailing_list.id, message_id, references)
    archived_refs = tuple(r for r in references if r in placement.archived_references)
    form = ArchiveForm(
        message=form_message.as_bytes(),
        message_id=message_id,
        in_reply_to=archived_refs[-1] if archived_refs else None,
        references=archived_refs,
        subject=subject,
        date=date or datetime(2026, 3, 1, 8, tzinfo=UTC),
        text=text,
        attachments=tuple(attachments),
        flags=(),
    )
    participant_key = keys.participant_key(list_address, placement.root_id)
    reader_key = keys.reader_key(list_address)
    new_post = store.NewPost(
        placement=placement,
        form=form,
        label=tlp,
        author_digest=keyed_digest(participant_key, author) if author else None,
        author_label=participant,
        reader_digests=tuple(keyed_digest(reader_key, str(r)) for r in readers)
        if tlp is Tlp.AMBER_STRICT
        else (),
    )

    def write(session: Session) -> tuple[str, int]:
        row = store.store(session, new_post)
        return row.token, row.thread_id

    token, thread_id = await db.write(write)
    return Archived(token=token, message_id=message_id, thread_id=thread_id)


def csrf_of(page: httpx.Response) -> str:
    found = CSRF_FIELD.search(page.text)
    assert found is not None, "the page has no form token"
    return found.group(1)


async def outbound_notices(db: Database, recipient: str) -> list[EmailMessage]:
    """The notices queued for `recipient` (what the delivery worker would send)."""
    async with db.session() as session:
        rows = (
            await session.execute(
                select(OutboundMessage.content)
                .join(DeliveryBatch, col(DeliveryBatch.outbound_id) == col(OutboundMessage.id))
                .where(
                    col(OutboundMessage.kind) == "notice",
                    col(DeliveryBatch.recipients) == recipient,
                )
                .order_by(col(OutboundMessage.id))
            )
        ).all()
    notices = []
    for (content,) in rows:
        parsed = message_from_bytes(content, policy=policy.default)
        assert isinstance(parsed, EmailMessage)
        notices.append(parsed)
    return notices


def link_in(notice: EmailMessage) -> str:
    body = notice.get_body(("plain",))
    assert body is not None
    found = LINK.search(body.get_content())
    assert found is not None, "no sign-in link in the notice"
    return found.group(0)


async def request_link(client: httpx.AsyncClient, email: str, next_path: str = "/") -> str:
    form = await client.get("/signin", params={"next": next_path})
    assert form.status_code == 200
    sent = await client.post(
        "/signin", data={"email": email, "csrf_token": csrf_of(form), "next": next_path}
    )
    assert sent.status_code == 200, sent.text
    return sent.text


def path_of(link: str) -> str:
    return "/" + link.split("/", 3)[3]


async def use_link(client: httpx.AsyncClient, link: str) -> httpx.Response:
    page = await client.get(path_of(link))
    assert page.status_code == 200, page.text
    return await client.post(path_of(link), data={"csrf_token": csrf_of(page)})


async def sign_in(client: httpx.AsyncClient, db: Database, email: str) -> None:
    """The whole flow: ask for a link, take it from the queued mail, press the button."""
    await request_link(client, email)
    notices = await outbound_notices(db, email)
    assert notices, f"no sign-in notice queued for {email}"
    used = await use_link(client, link_in(notices[-1]))
    assert used.status_code == 303, used.text


async def archived_posts(db: Database) -> list[ArchivePost]:
    async with db.session() as session:
        return list(
            (await session.scalars(select(ArchivePost).order_by(col(ArchivePost.seq)))).all()
        )


async def wait_for_archived(db: Database, count: int) -> list[ArchivePost]:
    """The archive's posts once there are `count` (the real pipeline archives them)."""

    async def enough() -> list[ArchivePost] | None:
        posts = await archived_posts(db)
        return posts if len(posts) >= count else None

    return await eventually(enough, timeout=60)


async def wait_for_link(relay: RecordingRelay, recipient: str) -> str:
    """The sign-in link in the newest sign-in mail the relay got for `recipient`."""

    def links() -> list[str]:
        return [
            link_in(delivered.message)
            for delivered in relay.to(recipient)
            if "sign-in link" in str(delivered.message["Subject"])
        ]

    await relay.wait_for(lambda: bool(links()), timeout=30)
    return links()[-1]
