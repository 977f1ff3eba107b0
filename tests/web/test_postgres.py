"""The web on PostgreSQL: sign-in (savepoints), reading, and tsvector search with ts_headline."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest

from listserv.config import Settings, load_settings
from listserv.db import Database
from listserv.keys import Keys
from tests.support.server import write_config
from tests.web.conftest import ALICE, BASE, BOB, CAROL, LIST, OTHER
from tests.web.helpers import archive_post, member_ids, outbound_notices, request_link, sign_in

pytestmark = pytest.mark.postgres


@pytest.fixture
def web_settings(tmp_path: Path, postgres_url: str) -> Settings:
    return load_settings(
        write_config(tmp_path, database_url=postgres_url, extra={"web": {"base_url": BASE}})
    )


async def test_sign_in_and_search_on_postgresql(
    client: httpx.AsyncClient, db: Database, keys: Keys
) -> None:
    assert not db.is_sqlite
    ids = await member_ids(db, LIST)
    start = datetime(2026, 1, 1, tzinfo=UTC)
    for number in range(23):
        await archive_post(
            db,
            keys,
            LIST,
            original_id=f"<p{number}@x>",
            subject=f"Botnet report {number}",
            text=f"The botnet controller moved.\nLine with <b>markup</b> {number}.",
            date=start + timedelta(hours=number),
        )
    await archive_post(
        db,
        keys,
        LIST,
        original_id="<strict@x>",
        subject="Strict botnet note",
        label="TLP:AMBER+STRICT",
        readers=[ids[ALICE]],
    )
    await archive_post(db, keys, OTHER, original_id="<other@x>", subject="Other botnet")
    # An unknown address takes the rolled-back path (a savepoint) on PostgreSQL too.
    await request_link(client, "nobody@outside.example")
    assert await outbound_notices(db, "nobody@outside.example") == []
    await sign_in(client, db, BOB)
    page = await client.get("/search", params={"q": "botnet", "list": LIST})
    assert page.status_code == 200
    assert "23 posts found" in page.text  # not the strict one, not the other list's
    assert "<mark>Botnet</mark> report" in page.text
    assert "<mark>botnet</mark> controller moved" in page.text
    assert "Line with &lt;b&gt;markup" in page.text  # kept as text, not taken for a tag
    assert "Page 1 of 2" in page.text
    second = await client.get("/search", params={"q": "botnet", "list": LIST, "page": 2})
    assert second.text.count('<li class="hit">') == 3
    # websearch syntax never raises.
    for query in ('"unterminated', "-", "or or or", "botnet -controller", "(((", "a:b & c | !"):
        assert (await client.get("/search", params={"q": query})).status_code == 200
    phrase = await client.get("/search", params={"q": '"controller moved"'})
    assert "23 posts found" in phrase.text
    threads = await client.get(f"/lists/{LIST}/")
    assert "Strict botnet note" not in threads.text
    assert len(re.findall(r'<td class="subject">', threads.text)) == 23


async def test_amber_strict_readers_on_postgresql(
    client: httpx.AsyncClient, db: Database, keys: Keys
) -> None:
    ids = await member_ids(db, LIST)
    strict = await archive_post(
        db,
        keys,
        LIST,
        original_id="<s@x>",
        subject="Strict",
        label="TLP:AMBER+STRICT",
        readers=[ids[CAROL]],
    )
    await sign_in(client, db, CAROL)
    assert (await client.get(f"/lists/{LIST}/posts/{strict.token}")).status_code == 200
    found = await client.get("/search", params={"q": "strict"})
    assert "1 post found" in found.text
