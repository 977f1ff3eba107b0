"""Reading the archive: thread lists, threads, permalinks, attachments, and who may read what."""

from __future__ import annotations

import re
from datetime import UTC, datetime

import httpx
from fastapi import FastAPI

from filters.deattribute import ArchivedAttachment
from listserv import registry
from listserv.archiving import post_url
from listserv.db import Database
from listserv.directory import ListView
from listserv.keys import Keys
from listserv.models import MailingList
from tests.web.conftest import ALICE, BASE, BOB, CAROL, DAVE, LIST, OTHER, client_for
from tests.web.helpers import add_list, archive_post, csrf_of, member_ids, sign_in

PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"


def day(number: int, hour: int = 8) -> datetime:
    return datetime(2026, 3, number, hour, tzinfo=UTC)


async def test_threads_are_listed_newest_first_with_label_count_and_date(
    client: httpx.AsyncClient, db: Database, keys: Keys
) -> None:
    await archive_post(db, keys, LIST, original_id="<old@x>", subject="Old outage", date=day(1))
    await archive_post(
        db, keys, LIST, original_id="<new@x>", subject="New botnet", label="TLP:GREEN", date=day(3)
    )
    await archive_post(
        db,
        keys,
        LIST,
        original_id="<old-reply@x>",
        subject="Re: Old outage",
        replying_to=["<old@x>"],
        label="TLP:CLEAR",
        participant="Participant B",
        date=day(2),
    )
    await sign_in(client, db, ALICE)
    page = await client.get(f"/lists/{LIST}/")
    assert page.status_code == 200
    rows = re.findall(r"<tr>(.*?)</tr>", page.text, re.S)[1:]  # the first is the header
    assert len(rows) == 2
    assert "New botnet" in rows[0]
    assert '<span class="tlp tlp-green">TLP:GREEN</span>' in rows[0]
    assert "2026-03-03" in rows[0]
    assert "Old outage" in rows[1]
    assert '<span class="tlp tlp-amber">TLP:AMBER</span>' in rows[1]  # the strictest of two
    assert re.search(r'<td class="num">2<span', rows[1])
    assert "2026-03-02" in rows[1]


async def test_a_thread_shows_its_posts_nested_with_thread_pseudonyms(
    client: httpx.AsyncClient, db: Database, keys: Keys
) -> None:
    root = await archive_post(db, keys, LIST, original_id="<root@x>", text="Root text")
    await archive_post(
        db,
        keys,
        LIST,
        original_id="<reply@x>",
        subject="Re: Phishing wave against operators",
        text="> Root text\nSeen it too.",
        participant="Participant B",
        author=BOB,
        replying_to=["<root@x>"],
    )
    await archive_post(
        db,
        keys,
        LIST,
        original_id="<deeper@x>",
        subject="Re: Phishing wave against operators",
        text="Deeper.",
        replying_to=["<root@x>", "<reply@x>"],
    )
    await sign_in(client, db, CAROL)
    page = await client.get(f"/lists/{LIST}/threads/{root.token}")
    assert page.status_code == 200
    depths = re.findall(r'<li class="depth-(\d)">', page.text)
    assert depths == ["0", "1", "2"]
    authors = re.findall(r'class="post-author"[^>]*>([^<]+)<', page.text)
    assert authors == ["Participant A", "Participant B", "Participant A"]
    assert re.findall(r"replying to (Participant \w)", page.text) == [
        "Participant A",
        "Participant B",
    ]
    assert '<span class="quote">&gt; Root text</span>' in page.text
    assert ALICE not in page.text
    assert BOB not in page.text


async def test_the_permalink_is_the_archived_at_url_of_the_distributed_copy(
    client: httpx.AsyncClient, db: Database, keys: Keys
) -> None:
    post = await archive_post(db, keys, LIST, original_id="<p@x>", text="Permalinked")
    async with db.session() as session:
        row: MailingList = await registry.get_list(session, LIST)
    archived_at = post_url(BASE, ListView.of(row), post.message_id)
    path = archived_at.removeprefix(BASE)
    assert path == f"/lists/{LIST}/posts/{post.token}"
    await sign_in(client, db, ALICE)
    page = await client.get(path)
    assert page.status_code == 200
    assert "Permalinked" in page.text
    assert f'href="/lists/{LIST}/threads/{post.token}#p-{post.token}"' in page.text
    # The List-Archive URL is the list page.
    assert (await client.get(f"/lists/{LIST}/")).status_code == 200


async def test_another_lists_posts_are_not_found(
    client: httpx.AsyncClient, db: Database, keys: Keys
) -> None:
    theirs = await archive_post(
        db,
        keys,
        OTHER,
        original_id="<board@x>",
        subject="Board only",
        attachments=[ArchivedAttachment("attachment-1.pdf", "application/pdf", PDF)],
    )
    await sign_in(client, db, ALICE)
    for path in (
        f"/lists/{LIST}/posts/{theirs.token}",
        f"/lists/{LIST}/threads/{theirs.token}",
        f"/lists/{LIST}/posts/{theirs.token}/attachments/1",
        f"/lists/{OTHER}/posts/{theirs.token}",
        f"/lists/{OTHER}/threads/{theirs.token}",
        f"/lists/{OTHER}/posts/{theirs.token}/attachments/1",
        f"/lists/{OTHER}/",
        f"/lists/{OTHER}/held",
        f"/lists/{OTHER}/leave",
        "/lists/nothing@lists.example/",
        f"/lists/{LIST}/posts/not-a-token",
    ):
        answer = await client.get(path)
        assert answer.status_code == 404, path
        assert "Board only" not in answer.text


async def test_amber_strict_posts_only_for_members_at_posting_time(
    app: FastAPI, db: Database, keys: Keys
) -> None:
    ids = await member_ids(db, LIST)
    # Posted while Alice and Carol were members; Bob is left out of the readers here
    # to stand for someone who joined later.
    strict = await archive_post(
        db,
        keys,
        LIST,
        original_id="<strict@x>",
        subject="Strict incident",
        text="Only for those present.",
        label="TLP:AMBER+STRICT",
        readers=[ids[ALICE], ids[CAROL]],
    )
    await archive_post(db, keys, LIST, original_id="<open@x>", subject="Open topic")
    async with client_for(app) as alice:
        await sign_in(alice, db, ALICE)
        listing = await alice.get(f"/lists/{LIST}/")
        assert "Strict incident" in listing.text
        assert "tlp-amber" in listing.text
        post = await alice.get(f"/lists/{LIST}/posts/{strict.token}")
        assert post.status_code == 200
        assert "TLP:AMBER+STRICT" in post.text
    async with client_for(app) as bob:
        await sign_in(bob, db, BOB)
        listing = await bob.get(f"/lists/{LIST}/")
        assert "Open topic" in listing.text
        assert "Strict incident" not in listing.text
        for path in (
            f"/lists/{LIST}/posts/{strict.token}",
            f"/lists/{LIST}/threads/{strict.token}",
        ):
            assert (await bob.get(path)).status_code == 404
        found = await bob.get("/search", params={"q": "incident"})
        assert "Strict incident" not in found.text
        assert "0 posts found" in found.text
    # A member who leaves and rejoins is a new member: the post stays closed to them.
    async with db.transaction() as session:
        mailing_list = await registry.get_list(session, LIST)
        await registry.remove_member(session, mailing_list, CAROL)
        await registry.add_member(session, mailing_list, registry.member_details(CAROL))
    async with client_for(app) as carol:
        await sign_in(carol, db, CAROL)
        assert (await carol.get(f"/lists/{LIST}/posts/{strict.token}")).status_code == 404


async def test_attachments_download_as_their_scrubbed_copies(
    client: httpx.AsyncClient, db: Database, keys: Keys
) -> None:
    post = await archive_post(
        db,
        keys,
        LIST,
        original_id="<att@x>",
        attachments=[
            ArchivedAttachment("attachment-1.pdf", "application/pdf", PDF),
            ArchivedAttachment("attachment-2.html", "text/html", b"<script>alert(1)</script>"),
        ],
    )
    await sign_in(client, db, ALICE)
    page = await client.get(f"/lists/{LIST}/threads/{post.token}")
    assert f'href="/lists/{LIST}/posts/{post.token}/attachments/1" download>attachment-1.pdf' in (
        page.text
    )
    pdf = await client.get(f"/lists/{LIST}/posts/{post.token}/attachments/1")
    assert pdf.status_code == 200
    assert pdf.content == PDF
    assert pdf.headers["content-type"] == "application/pdf"
    assert pdf.headers["content-disposition"] == 'attachment; filename="attachment-1.pdf"'
    assert pdf.headers["x-content-type-options"] == "nosniff"
    assert "sandbox" in pdf.headers["content-security-policy"]
    html = await client.get(f"/lists/{LIST}/posts/{post.token}/attachments/2")
    assert html.headers["content-type"] == "application/octet-stream"
    assert html.headers["content-disposition"] == 'attachment; filename="attachment-2.html"'
    assert (await client.get(f"/lists/{LIST}/posts/{post.token}/attachments/3")).status_code == 404


async def test_leaving_a_list_needs_the_form_token_and_then_closes_its_archive(
    client: httpx.AsyncClient, db: Database, keys: Keys
) -> None:
    await archive_post(db, keys, LIST, original_id="<bye@x>")
    await sign_in(client, db, CAROL)
    page = await client.get(f"/lists/{LIST}/leave")
    assert page.status_code == 200
    assert CAROL in page.text
    refused = await client.post(f"/lists/{LIST}/leave", data={"csrf_token": "forged"})
    assert refused.status_code == 403
    assert CAROL in (await member_ids(db, LIST))
    left = await client.post(f"/lists/{LIST}/leave", data={"csrf_token": csrf_of(page)})
    assert left.status_code == 200
    assert "You have left" in left.text
    assert CAROL not in (await member_ids(db, LIST))
    assert (await client.get(f"/lists/{LIST}/")).status_code == 404


async def test_the_home_page_lists_only_the_members_lists(app: FastAPI, db: Database) -> None:
    await add_list(db, "third@lists.example", [(ALICE, "owner")])
    async with client_for(app) as alice:
        await sign_in(alice, db, ALICE)
        home = await alice.get("/")
        assert LIST in home.text
        assert "third@lists.example" in home.text
        assert OTHER not in home.text
        assert f'href="/lists/{LIST}/held"' not in home.text  # a member, not a moderator
        assert 'href="/lists/third@lists.example/held"' in home.text
    async with client_for(app) as dave:
        await sign_in(dave, db, DAVE)
        home = await dave.get("/")
        assert OTHER in home.text
        assert LIST not in home.text
