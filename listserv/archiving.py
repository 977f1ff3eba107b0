"""The pipeline's archive step: key the ids, place the thread, scrub, store.

    target()   before rendering: keyed ids, thread placement, the poster's
               participant letter, and the context the archive form is made
               in (the post worker then makes it, in its own process)
    prepare()  target() and the form at once (the CLI's preview and retries)
    record()   inside the acceptance transaction: store the form, or hold
               the archive copy for a moderator when scrubbing failed closed

TLP:RED posts never reach this module (no scrubbing, no letter allocated).
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime
from email.message import EmailMessage
from typing import Protocol

from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Session

from archive import store
from archive.models import ArchivePost
from filters.archive_ids import keyed_message_id, referenced_ids
from filters.deattribute import ArchiveContext, ArchiveForm, archive_form_or_hold
from filters.identities import Registry
from filters.matching import RegistryMatcher
from filters.tlp import Tlp
from listserv.directory import ListView
from listserv.keys import Keys, keyed_digest


class Scrubber(Protocol):
    """Makes archive forms: the post worker in the server, in-process in the CLI."""

    async def archive_form(
        self, raw: bytes, registry: Registry, ctx: ArchiveContext
    ) -> ArchiveForm: ...


class InProcessScrubber:
    """For one-shot commands (`listserv scrub`): no child process, same function."""

    def __init__(self) -> None:
        self._matchers: dict[str, RegistryMatcher] = {}

    async def archive_form(
        self, raw: bytes, registry: Registry, ctx: ArchiveContext
    ) -> ArchiveForm:
        fingerprint = registry.fingerprint()
        matcher = self._matchers.get(fingerprint)
        if matcher is None:
            matcher = self._matchers[fingerprint] = RegistryMatcher.compile(registry)
        return archive_form_or_hold(raw, matcher, ctx)


@dataclass(frozen=True, slots=True)
class KeyedIds:
    message_id: str
    references: tuple[str, ...]  # oldest first, In-Reply-To last


def keyed_ids(keys: Keys, mailing_list: ListView, message: EmailMessage, raw: bytes) -> KeyedIds:
    """The post's own keyed id and those of the posts it answers."""
    key = keys.archive_id_key(mailing_list.address)
    original = str(message.get("Message-ID", "") or "").strip()
    own = original or f"<sha256-{hashlib.sha256(raw).hexdigest()}@listserv.invalid>"
    cited = referenced_ids(
        [str(v) for v in message.get_all("References", [])]
        + [str(v) for v in message.get_all("In-Reply-To", [])]
    )
    return KeyedIds(
        message_id=keyed_message_id(key, own, mailing_list.domain),
        references=tuple(keyed_message_id(key, c, mailing_list.domain) for c in cited),
    )


def post_url(base_url: str, mailing_list: ListView, keyed_id: str) -> str:
    token = keyed_id.strip("<>").split("@", 1)[0]
    return f"{base_url.rstrip('/')}/lists/{mailing_list.address}/posts/{token}"


@dataclass(frozen=True, slots=True)
class ArchiveTarget:
    placement: store.Placement
    context: ArchiveContext
    author_digest: str | None
    author_label: str

    def plan(self, form: ArchiveForm, label: Tlp) -> ArchivePlan:
        return ArchivePlan(self.placement, form, label, self.author_digest, self.author_label)


@dataclass(frozen=True, slots=True)
class ArchivePlan:
    placement: store.Placement
    form: ArchiveForm
    label: Tlp
    author_digest: str | None
    author_label: str

    @property
    def held(self) -> bool:
        return self.form.hold_reason is not None


class Archiver:
    def __init__(self, keys: Keys, worker: Scrubber, *, base_url: str) -> None:
        self._keys = keys
        self._worker = worker
        self._base_url = base_url

    @property
    def keys(self) -> Keys:
        return self._keys

    def url_of(self, mailing_list: ListView, keyed_id: str) -> str:
        return post_url(self._base_url, mailing_list, keyed_id)

    async def target(
        self,
        session: AsyncSession,
        *,
        mailing_list: ListView,
        ids: KeyedIds,
        label: Tlp,
        author_key: str | None,
        received_at: datetime,
        registry: Registry,
    ) -> ArchiveTarget:
        """Where the post goes in the archive and the context its form is made in.

        `label` is the best known so far; the post worker resolves the final
        one from the body and puts it into the context.
        """
        placement = await store.place(session, mailing_list.id, ids.message_id, ids.references)
        participant_key = self._keys.participant_key(mailing_list.address, placement.root_id)
        author_digest = keyed_digest(participant_key, author_key) if author_key else None
        if author_digest is None:
            author_label = "A participant"
        else:
            author_label = placement.participants.get(author_digest) or store.next_label(
                placement.participants
            )
        participants = self._thread_participants(registry, participant_key, placement.participants)
        if author_key is not None:
            participants[author_key] = author_label
        context = ArchiveContext(
            list_address=mailing_list.address,
            list_name=mailing_list.name,
            list_key=self._keys.archive_id_key(mailing_list.address),
            received_at=received_at,
            label=label.label,
            author_key=author_key,
            participants=participants,
            archived_references=placement.archived_references,
            date_rounding="day" if mailing_list.archive_date_rounding == "day" else "hour",
            our_url_prefixes=(self._base_url.rstrip("/") + "/",),
        )
        return ArchiveTarget(placement, context, author_digest, author_label)

    async def prepare(
        self,
        session: AsyncSession,
        *,
        mailing_list: ListView,
        raw: bytes,
        ids: KeyedIds,
        label: Tlp,
        author_key: str | None,
        received_at: datetime,
        registry: Registry,
    ) -> ArchivePlan:
        """The target and the archive form, scrubbed by this archiver's scrubber."""
        if label is Tlp.RED:
            raise store.RedRefused("TLP:RED posts are never archived")
        target = await self.target(
            session,
            mailing_list=mailing_list,
            ids=ids,
            label=label,
            author_key=author_key,
            received_at=received_at,
            registry=registry,
        )
        form = await self._worker.archive_form(raw, registry, target.context)
        return target.plan(form, label)

    @staticmethod
    def _thread_participants(
        registry: Registry, participant_key: bytes, known: dict[str, str]
    ) -> dict[str, str]:
        """identity key → letter, for the members who already posted in the thread."""
        if not known:
            return {}
        found: dict[str, str] = {}
        for identity in registry.identities:
            label = known.get(keyed_digest(participant_key, identity.key))
            if label is not None:
                found[identity.key] = label
        return found

    def record(
        self,
        session: Session,
        plan: ArchivePlan,
        *,
        inbound_id: int,
        reader_ids: list[int],
        mailing_list: ListView,
    ) -> ArchivePost | None:
        """Store the form in the caller's write transaction; None when held instead."""
        if plan.form.hold_reason is not None:
            store.hold(session, mailing_list.id, inbound_id, plan.form.hold_reason)
            return None
        readers: tuple[str, ...] = ()
        if plan.label is Tlp.AMBER_STRICT:
            reader_key = self._keys.reader_key(mailing_list.address)
            readers = tuple(keyed_digest(reader_key, str(member_id)) for member_id in reader_ids)
        return store.store(
            session,
            store.NewPost(
                placement=plan.placement,
                form=plan.form,
                label=plan.label,
                author_digest=plan.author_digest,
                author_label=plan.author_label,
                reader_digests=readers,
            ),
        )
