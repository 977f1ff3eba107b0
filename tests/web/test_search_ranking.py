"""Search at scale (issue 7), on SQLite and PostgreSQL: the capped ranking, visibility
before the cap, paging, highlights, hostile queries, and reading while another writes.

`archive.search.search` is called as GET /search calls it, with the readers
the web builds (`listserv.web.access.reader_of`); posts are written with
archive.store, many to a transaction where a test needs more than the cap.
"""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from email.message import EmailMessage
from pathlib import Path

import pytest
from sqlalchemy.orm import Session

from archive import store
from archive.reading import Reader
from archive.search import MAX_RANKED, SearchHit, SearchResults, Segment, search
from filters.archive_ids import keyed_message_id
from filters.deattribute import ArchiveForm
from filters.tlp import Tlp
from listserv import registry
from listserv.config import Settings, load_settings
from listserv.db import Database
from listserv.keys import Keys, keyed_digest
from listserv.web.access import reader_of
from tests.support.server import write_config
from tests.web.conftest import ALICE, BASE, BOB, CAROL, DAVE, LIST, OTHER
from tests.web.helpers import archive_post, member_ids

START = datetime(2025, 1, 6, 9, tzinfo=UTC)


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def web_settings(request: pytest.FixtureRequest, tmp_path: Path) -> Settings:
    extra = {"web": {"base_url": BASE}}
    if request.param == "sqlite":
        return load_settings(write_config(tmp_path, extra=extra))
    url = request.getfixturevalue("postgres_url")
    return load_settings(write_config(tmp_path, database_url=url, extra=extra))


@dataclass(frozen=True)
class NewRoot:
    original_id: str
    subject: str
    text: str
    date: datetime


async def archive_roots(
    db: Database, keys: Keys, list_address: str, posts: Sequence[NewRoot]
) -> None:
    """Posts that each start a thread, stored by archive.store in one transaction."""
    domain = list_address.rsplit("@", 1)[1]
    key = keys.archive_id_key(list_address)
    async with db.session() as session:
        mailing_list = await registry.get_list(session, list_address)
    assert mailing_list.id is not None
    list_id = mailing_list.id
    new_posts = []
    for post in posts:
        message_id = keyed_message_id(key, post.original_id, domain)
        form_message = EmailMessage()
        form_message["From"] = "Participant A <participant@archive.invalid>"
        form_message["Subject"] = post.subject
        form_message["Message-ID"] = message_id
        form_message.set_content(post.text)
        form = ArchiveForm(
            message=form_message.as_bytes(),
            message_id=message_id,
            in_reply_to=None,
            references=(),
            subject=post.subject,
            date=post.date,
            text=post.text,
            attachments=(),
            flags=(),
        )
        # A post citing nothing starts its own thread: what store.place finds for it.
        placement = store.Placement(list_id, message_id, (), None, message_id, frozenset())
        new_posts.append(
            store.NewPost(
                placement=placement,
                form=form,
                label=Tlp.AMBER,
                author_digest=keyed_digest(
                    keys.participant_key(list_address, message_id), "alice@operator-a.example"
                ),
                author_label="Participant A",
            )
        )

    def write(session: Session) -> None:
        for new_post in new_posts:
            store.store(session, new_post)

    await db.write(write)


async def reader(db: Database, keys: Keys, list_address: str, email: str) -> Reader:
    ids = await member_ids(db, list_address)
    async with db.session() as session:
        mailing_list = await registry.get_list(session, list_address)
    assert mailing_list.id is not None
    return reader_of(keys, list_address, ids[email], mailing_list.id)


async def run(
    db: Database, readers: Sequence[Reader], query: str, page: int = 1, per_page: int = 20
) -> SearchResults:
    async with db.session() as session:
        return await search(session, readers, query, page=page, per_page=per_page)


def plain(segments: Sequence[Segment]) -> str:
    return "".join(segment.text for segment in segments)


def marked(segments: Sequence[Segment]) -> list[str]:
    return [segment.text for segment in segments if segment.hit]


def subjects(hits: Sequence[SearchHit]) -> list[str]:
    return [plain(hit.subject) for hit in hits]


async def test_more_matches_than_ranked_show_the_most_relevant_of_the_newest(
    db: Database, keys: Keys, lists: None
) -> None:
    # The oldest post is the best match (the word in its subject), but it is
    # older than the newest MAX_RANKED matches and so is not ranked at all.
    posts = [NewRoot("<oldest@x>", "Zeolite zeolite zeolite", "zeolite filter", START)]
    posts += [
        NewRoot(
            f"<p{n}@x>",
            f"Weekly note {n}",
            f"Routine text about the zeolite filter, item {n}.",
            START + timedelta(hours=n + 1),
        )
        for n in range(MAX_RANKED + 4)
    ]
    # Among the newest, one has the word in its subject: it comes first.
    posts.append(NewRoot("<best-new@x>", "Zeolite shortage", "zeolite", START + timedelta(days=90)))
    await archive_roots(db, keys, LIST, posts)
    alice = await reader(db, keys, LIST, ALICE)

    first = await run(db, [alice], "zeolite")
    assert (first.total, first.capped, first.pages) == (MAX_RANKED, True, MAX_RANKED // 20)
    assert len(first.hits) == 20
    assert subjects(first.hits)[0] == "Zeolite shortage"
    seen = [hit.token for hit in first.hits]
    for page in range(2, first.pages + 1):
        seen += [hit.token for hit in (await run(db, [alice], "zeolite", page=page)).hits]
    assert len(seen) == len(set(seen)) == MAX_RANKED
    oldest = await run(db, [alice], '"zeolite zeolite zeolite"')
    assert (oldest.total, oldest.capped, subjects(oldest.hits)) == (
        1,
        False,
        ["Zeolite zeolite zeolite"],
    )
    assert oldest.hits[0].token not in seen
    past_the_end = await run(db, [alice], "zeolite", page=first.pages + 1)
    assert (past_the_end.hits, past_the_end.total, past_the_end.capped) == ((), MAX_RANKED, True)


async def test_the_cap_counts_only_posts_the_reader_may_read(
    db: Database, keys: Keys, lists: None
) -> None:
    ids = await member_ids(db, LIST)
    old = START - timedelta(days=30)
    await archive_post(db, keys, LIST, original_id="<open@x>", subject="Basalt open", date=old)
    await archive_post(
        db,
        keys,
        LIST,
        original_id="<for-alice@x>",
        subject="Basalt for Alice",
        label="TLP:AMBER+STRICT",
        readers=[ids[ALICE]],
        date=old,
    )
    await archive_post(
        db,
        keys,
        LIST,
        original_id="<for-carol@x>",
        subject="Basalt for Carol",
        label="TLP:AMBER+STRICT",
        readers=[ids[CAROL]],
        date=old,
    )
    # Far more, and newer, matches on a list these readers are not on.
    await archive_roots(
        db,
        keys,
        OTHER,
        [
            NewRoot(f"<b{n}@x>", f"Board basalt {n}", "basalt", START + timedelta(hours=n))
            for n in range(MAX_RANKED + 2)
        ],
    )
    alice = await reader(db, keys, LIST, ALICE)
    bob = await reader(db, keys, LIST, BOB)
    dave = await reader(db, keys, OTHER, DAVE)

    found = await run(db, [alice], "basalt")
    assert (found.total, found.capped) == (2, False)
    assert sorted(subjects(found.hits)) == ["Basalt for Alice", "Basalt open"]
    assert {hit.list_address for hit in found.hits} == {LIST}
    assert subjects((await run(db, [bob], "basalt")).hits) == ["Basalt open"]
    both = await run(db, [alice, dave], "basalt")
    assert (both.total, both.capped) == (MAX_RANKED, True)
    assert {hit.list_address for hit in both.hits} == {OTHER}  # the newest thousand
    assert (await run(db, [dave], '"basalt for alice"')).total == 0
    assert (await run(db, [], "basalt")).total == 0


async def test_pages_split_one_ranking_with_the_newest_first_among_equals(
    db: Database, keys: Keys, lists: None
) -> None:
    posts = [
        NewRoot(f"<e{n}@x>", f"Entry {n:02}", "granite slab report", START + timedelta(hours=n))
        for n in range(44)
    ]
    posts.append(NewRoot("<s@x>", "Granite in the subject", "granite", START))
    await archive_roots(db, keys, LIST, posts)
    alice = await reader(db, keys, LIST, ALICE)

    pages = [await run(db, [alice], "granite", page=page) for page in (1, 2, 3)]
    assert [(p.total, p.capped, p.pages, len(p.hits)) for p in pages] == [
        (45, False, 3, 20),
        (45, False, 3, 20),
        (45, False, 3, 5),
    ]
    ranked = [subject for p in pages for subject in subjects(p.hits)]
    assert ranked[0] == "Granite in the subject"
    # The same body everywhere else: equal relevance, newest first.
    assert ranked[1:] == [f"Entry {n:02}" for n in reversed(range(44))]


async def test_hits_are_marked_in_the_subject_and_the_snippet(
    db: Database, keys: Keys, lists: None
) -> None:
    body = (
        "Opening line about nothing in particular.\n"
        + "Filler words go here. " * 30
        + "Then the firmware exploitation began at the <b>edge</b> router.\n"
        + "More filler afterwards. " * 30
    )
    await archive_post(
        db, keys, LIST, original_id="<fw@x>", subject="Firmware exploitation by Müller", text=body
    )
    await archive_post(db, keys, LIST, original_id="<no@x>", subject="Unrelated", text="Nothing.")
    alice = await reader(db, keys, LIST, ALICE)

    found = await run(db, [alice], "firmware exploitation")
    assert found.total == 1
    hit = found.hits[0]
    assert plain(hit.subject) == "Firmware exploitation by Müller"
    assert marked(hit.subject) == ["Firmware", "exploitation"]
    assert "firmware" in [text.lower() for text in marked(hit.snippet)]
    assert "<b>edge</b>" in plain(hit.snippet)  # text, for the web to escape
    assert "Opening line" not in plain(hit.snippet)  # the snippet is where the hits are
    phrase = await run(db, [alice], '"exploitation began"')
    assert phrase.total == 1
    # FTS5 marks a phrase as one span, ts_headline word by word.
    assert " ".join(marked(phrase.hits[0].snippet)) == "exploitation began"
    if db.is_sqlite:  # FTS5: prefixes, and accents folded (PostgreSQL's 'simple' keeps both)
        prefix = await run(db, [alice], "exploit*")
        assert marked(prefix.hits[0].subject) == ["exploitation"]
        folded = await run(db, [alice], "muller")
        assert marked(folded.hits[0].subject) == ["Müller"]


HOSTILE_QUERIES = [
    '"',
    '"unterminated phrase',
    "NEAR(slate quarry)",
    "slate OR",
    "AND",
    "NOT slate",
    "*",
    "slat*",
    "-slate",
    "subject:slate",
    "^slate",
    "slate & | ! ( ) <-> :*",
    "'; DROP TABLE archive_post; --",
    "\x00\x01\x1f slate",
    "slate\\",
    "🙂 slate",
    "a" * 500,
    "x " * 250,
    "(((",
    "-",
    "or or or",
    "\u202eslate",
]


async def test_no_query_raises_on_either_backend(db: Database, keys: Keys, lists: None) -> None:
    await archive_post(db, keys, LIST, original_id="<q@x>", subject="Slate quarry", text="slate")
    alice = await reader(db, keys, LIST, ALICE)
    for query in HOSTILE_QUERIES:
        for page in (1, 7):
            result = await run(db, [alice], query, page=page)
            assert result.total in (0, 1), query
            assert not result.capped, query
            assert len(result.hits) <= result.total, query
    assert (await run(db, [alice], "slate quarry")).total == 1


async def test_consecutive_searches_do_not_share_highlights(
    db: Database, keys: Keys, lists: None
) -> None:
    await archive_post(db, keys, LIST, original_id="<a@x>", subject="Marble alpha", text="marble")
    await archive_post(db, keys, LIST, original_id="<b@x>", subject="Quartz beta", text="quartz")
    alice = await reader(db, keys, LIST, ALICE)
    for _ in range(2):
        marble = await run(db, [alice], "marble")
        quartz = await run(db, [alice], "quartz")
        assert [marked(hit.subject) for hit in marble.hits] == [["Marble"]]
        assert [marked(hit.subject) for hit in quartz.hits] == [["Quartz"]]


@pytest.mark.parametrize("web_settings", ["sqlite"], indirect=True)  # SQLite's one writer
async def test_search_reads_while_another_connection_holds_the_write_lock(
    db: Database, keys: Keys, lists: None, web_settings: Settings
) -> None:
    await archive_post(db, keys, LIST, original_id="<w@x>", subject="Shale report", text="shale")
    alice = await reader(db, keys, LIST, ALICE)
    path = web_settings.database_url.split("///", 1)[1]
    writer = sqlite3.connect(path, isolation_level=None)
    try:
        writer.execute("BEGIN IMMEDIATE")
        writer.execute(
            "INSERT INTO notice_log (address, kind, sent_at)"
            " VALUES ('x@example.org', 'test', '2026-01-01 00:00:00')"
        )
        # Highlighting writes only the connection's temp database: no wait for
        # the main database's lock (busy_timeout would make this take 10 s).
        found = await asyncio.wait_for(run(db, [alice], "shale"), timeout=3)
        assert marked(found.hits[0].subject) == ["Shale"]
    finally:
        writer.execute("ROLLBACK")
        writer.close()
