"""Search over the scrubbed archive (SQLite FTS5): highlights, paging, scope, odd queries."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import httpx

from archive.search import fts5_query
from listserv.db import Database
from listserv.keys import Keys
from tests.web.conftest import ALICE, LIST, OTHER
from tests.web.helpers import archive_post, sign_in


async def test_hits_in_subjects_and_bodies_are_highlighted(
    client: httpx.AsyncClient, db: Database, keys: Keys
) -> None:
    await archive_post(
        db, keys, LIST, original_id="<s@x>", subject="Ransomware at a port", text="Nothing else."
    )
    await archive_post(
        db,
        keys,
        LIST,
        original_id="<b@x>",
        subject="Weekly notes",
        text="First line.\nA ransomware sample hit the gateway <script>x</script>.",
    )
    await archive_post(db, keys, LIST, original_id="<n@x>", subject="Unrelated", text="Nothing.")
    await sign_in(client, db, ALICE)
    page = await client.get("/search", params={"q": "ransomware"})
    assert page.status_code == 200
    assert "2 posts found" in page.text
    assert "<mark>Ransomware</mark> at a port" in page.text
    assert "A <mark>ransomware</mark> sample hit the gateway &lt;script&gt;x&lt;/script&gt;" in (
        page.text
    )
    assert "Unrelated" not in page.text
    links = re.findall(rf'href="/lists/{LIST}/posts/([a-z2-7]{{26}})"', page.text)
    assert len(links) == 2


async def test_results_come_in_pages(client: httpx.AsyncClient, db: Database, keys: Keys) -> None:
    start = datetime(2026, 1, 1, tzinfo=UTC)
    for number in range(25):
        await archive_post(
            db,
            keys,
            LIST,
            original_id=f"<p{number}@x>",
            subject=f"Indicator batch {number}",
            text="botnet command server list",
            date=start + timedelta(hours=number),
        )
    await sign_in(client, db, ALICE)
    first = await client.get("/search", params={"q": "botnet", "list": LIST})
    assert "25 posts found" in first.text
    assert first.text.count('<li class="hit">') == 20
    assert "Page 1 of 2" in first.text
    next_link = re.search(r'<a rel="next" href="([^"]+)"', first.text)
    assert next_link is not None
    second = await client.get(next_link.group(1).replace("&amp;", "&"))
    assert second.text.count('<li class="hit">') == 5
    assert "Page 2 of 2" in second.text
    subjects = set(re.findall(r"Indicator batch (\d+)", first.text + second.text))
    assert subjects == {str(n) for n in range(25)}


async def test_search_covers_only_the_members_lists(
    client: httpx.AsyncClient, db: Database, keys: Keys
) -> None:
    await archive_post(db, keys, LIST, original_id="<mine@x>", subject="Shared wiper analysis")
    await archive_post(db, keys, OTHER, original_id="<theirs@x>", subject="Board wiper budget")
    await sign_in(client, db, ALICE)
    page = await client.get("/search", params={"q": "wiper"})
    assert "1 post found" in page.text
    assert "Shared <mark>wiper</mark> analysis" in page.text
    assert "budget" not in page.text
    scoped = await client.get("/search", params={"q": "wiper", "list": OTHER})
    assert "0 posts found" in scoped.text


# Each query with the number of posts it must find (punctuation alone finds nothing).
ODD_QUERIES: list[tuple[str, int]] = [
    ('"', 0),
    ('wave"', 1),
    ("NEAR(wave phishing)", 0),
    ("phishing OR", 0),
    ("AND", 0),
    ("NOT phishing", 0),
    ("*", 0),
    ("phish*", 1),
    ("-phishing", 1),
    ("subject:phishing", 0),
    ("^phishing", 1),
    ("phishing +", 1),
    ("(((", 0),
    ("{subject text}: wave", 0),
    ("'; DROP TABLE archive_post; --", 0),
    ("\x00\x01 wave", 1),
    ("🙂", 0),
    ("a" * 500, 0),
    ("x " * 250, 0),
]


async def test_no_query_raises_and_syntax_is_searched_as_words(
    client: httpx.AsyncClient, db: Database, keys: Keys
) -> None:
    await archive_post(db, keys, LIST, original_id="<w@x>")
    await sign_in(client, db, ALICE)
    for query, expected in ODD_QUERIES:
        page = await client.get("/search", params={"q": query})
        assert page.status_code == 200, query
        noun = "post" if expected == 1 else "posts"
        assert f"{expected} {noun} found</h2>" in page.text, query


def test_user_queries_become_quoted_fts5_terms() -> None:
    assert fts5_query("phishing wave") == '"phishing" "wave"'
    assert fts5_query('"exact phrase" other') == '"exact phrase" "other"'
    assert fts5_query("phish*") == '"phish" *'
    assert fts5_query('NEAR(a b) OR "x') == '"NEAR(a" "b)" "OR" "x"'
    assert fts5_query('say "he said ""hi""') is not None
    assert fts5_query("*** ((( !!!") is None
    assert fts5_query("") is None
    assert fts5_query(" ".join(f"w{n}" for n in range(40))) == " ".join(
        f'"w{n}"' for n in range(12)
    )
