"""Full-text search over the scrubbed archive: SQLite FTS5 or PostgreSQL tsvector.

The index holds only the archive form's subject and text (migration
0002_archive), so search can find nothing that the archive does not show.
Results are limited to what the readers may read (`archive.reading.visible_to`
for each list searched) and come with highlighted subject and snippet, as
segments `(text, is_hit)` the web layer escapes and marks up.

A user's query never reaches FTS5 as syntax: `fts5_query` quotes every term
and phrase, so `NEAR(`, `OR`, `"`, `*`, `-` or `col:` are searched for as
words and no input raises. PostgreSQL parses with `websearch_to_tsquery`,
which accepts any text.

Ranking is capped, so a search costs about the same on a large archive as
on a small one (issue 7): the newest `MAX_RANKED` matching posts the readers
may read are ranked by relevance (bm25 with subject hits weighing four times
body hits; `ts_rank` with the subject weighted A, the body B) and the page is
cut from that ranking. When more posts match, `capped` says so: the user
sees "1,000+" and the most relevant of the newest thousand, and can add
words to narrow the search. Ranking or counting every match would make a
common word cost in proportion to the whole archive.

    search(readers, query, page)
      │ 1. the newest MAX_RANKED + 1 matches the readers may read
      │      SQLite: FTS5 walks its doclists newest rowid first, stops at the limit
      │      PostgreSQL: the GIN index, window by window of ids back from the newest
      │ 2. rank the newest MAX_RANKED (score, then newest first), cut the page
      ▼ 3. highlight the page's posts only
    SearchResults(hits, total ≤ MAX_RANKED, capped)

Step 1 passes over matches the readers may not read: a member of a small list
on a server with a large one pays for the large list's matches (one look-up
each in a narrow index, migration 0005), up to every match of a common word.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import bindparam, text
from sqlalchemy.ext.asyncio import AsyncSession

from archive.reading import RED, Reader, token_of
from listserv.models import UtcDateTime

MAX_QUERY_CHARS = 200
MAX_TERMS = 12
# Relevance orders at most this many of the newest matches (see the module docstring).
MAX_RANKED = 1000
# Private-use characters mark hits inside highlighted text; they are turned
# into segments before anything is shown.
HIT_START = "\ue000"
HIT_END = "\ue001"
ANGLE_OPEN = "\ue002"
ANGLE_CLOSE = "\ue003"
SNIPPET_WORDS = 32
OPENING_CHARS = 200  # of an unmarked snippet
_TERM = re.compile(r'"([^"]*)"?|(\S+)')
_MARKER = re.compile(f"([{HIT_START}{HIT_END}])")


def fts5_query(user_query: str) -> str | None:
    """An FTS5 MATCH expression with every term quoted, or None if nothing to search.

    `"a phrase"` stays a phrase; a bare word ending in `*` is a prefix search;
    everything else is a literal term. Terms are ANDed.
    """
    parts: list[str] = []
    for found in _TERM.finditer(_printable(user_query)):
        phrase, word = found.group(1), found.group(2)
        prefix = False
        if phrase is not None:
            term = phrase.strip()
        else:
            term = word.replace('"', "")
            if term.endswith("*"):
                term, prefix = term.rstrip("*"), True
        if not any(ch.isalnum() for ch in term):
            continue  # punctuation alone tokenises to nothing
        parts.append('"' + term.replace('"', '""') + '"' + (" *" if prefix else ""))
        if len(parts) == MAX_TERMS:
            break
    return " ".join(parts) if parts else None


def _printable(user_query: str) -> str:
    """The query's first MAX_QUERY_CHARS, control and format characters made spaces.

    NUL and lone surrogates would make the database driver raise; bidi
    overrides and private-use characters (our hit markers) have no place in
    a search term either.
    """
    return "".join(
        ch if unicodedata.category(ch)[0] != "C" else " " for ch in user_query[:MAX_QUERY_CHARS]
    )


@dataclass(frozen=True, slots=True)
class Segment:
    text: str
    hit: bool


def segments(marked: str) -> tuple[Segment, ...]:
    """Split text with HIT_START/HIT_END markers into plain and hit segments."""
    result: list[Segment] = []
    hit = False
    for piece in _MARKER.split(marked):
        if piece in (HIT_START, HIT_END):
            hit = piece == HIT_START
        elif piece:
            result.append(Segment(piece, hit))
    return tuple(result)


@dataclass(frozen=True, slots=True)
class SearchHit:
    list_address: str
    token: str
    subject: tuple[Segment, ...]
    snippet: tuple[Segment, ...]
    date: datetime
    label: str


@dataclass(frozen=True, slots=True)
class SearchResults:
    """One page of results.

    `total` is the number of ranked matches, at most MAX_RANKED; `capped`
    means more posts match than were ranked (show "1,000+").
    """

    query: str
    hits: tuple[SearchHit, ...]
    total: int
    page: int
    per_page: int
    capped: bool = False

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // self.per_page))


@dataclass(frozen=True, slots=True)
class _Ranking:
    found: int  # visible matches, at most MAX_RANKED + 1 (one more means "and more")
    shown: list[int]  # post ids of the page, most relevant first


def _visibility(readers: Sequence[Reader], params: dict[str, Any]) -> str:
    """SQL text: the post is readable by one of `readers` (archive.reading.visible_to)."""
    clauses = []
    for index, reader in enumerate(readers):
        params[f"list_{index}"] = reader.list_id
        params[f"digest_{index}"] = reader.reader_digest
        clauses.append(
            f"(p.list_id = :list_{index} AND (NOT p.restricted OR EXISTS ("
            f"SELECT 1 FROM archive_reader r WHERE r.post_id = p.id"
            f" AND r.reader_digest = :digest_{index})))"
        )
    params["red"] = RED
    return "p.label != :red AND (" + " OR ".join(clauses) + ")"


async def search(
    session: AsyncSession,
    readers: Sequence[Reader],
    query: str,
    *,
    page: int = 1,
    per_page: int = 20,
) -> SearchResults:
    """Posts matching `query` among those `readers` may read, best match first.

    Best among the newest MAX_RANKED matches; `capped` tells whether there were more.
    """
    page = max(1, page)
    empty = SearchResults(query, (), 0, page, per_page)
    if not readers:
        return empty
    offset = (page - 1) * per_page
    if session.bind.dialect.name == "sqlite":
        match = fts5_query(query)
        if match is None:
            return empty
        ranking = await _sqlite_ranking(session, readers, match, offset, per_page)
        rows = await _sqlite_page(session, readers, match, ranking.shown)
    else:
        searched = _printable(query)
        if not searched.strip():
            return empty
        ranking = await _postgres_ranking(session, readers, searched, offset, per_page)
        rows = await _postgres_page(session, readers, searched, ranking.shown)
    return SearchResults(
        query,
        _hits(readers, rows, ranking.shown),
        min(ranking.found, MAX_RANKED),
        page,
        per_page,
        capped=ranking.found > MAX_RANKED,
    )


# --- SQLite (FTS5) -----------------------------------------------------------------------------

# As migration 0002 tokenises archive_fts: the page's highlights must find what the index found.
FTS5_TOKENIZE = "unicode61 remove_diacritics 2"
# A per-connection temporary FTS5 table holding just the page's posts (see _sqlite_page).
PAGE_TABLE = "archive_fts_page"
# Migration 0005: (id, list_id, label, restricted), all the visibility check reads of a post.
VISIBILITY_INDEX = "ix_archive_post_search_visible"


async def _sqlite_ranking(
    session: AsyncSession, readers: Sequence[Reader], match: str, offset: int, limit: int
) -> _Ranking:
    params: dict[str, Any] = {
        "match": match,
        "found_limit": MAX_RANKED + 1,
        "ranked": MAX_RANKED,
        "offset": offset,
        "limit": limit,
    }
    visible = _visibility(readers, params)
    # CROSS JOIN keeps FTS5 the outer loop: it walks its doclists newest rowid
    # first and stops at the limit, whatever the number of matches. Driven from
    # archive_post instead, SQLite would run one FTS5 lookup per post of the list.
    # The visibility check reads the narrow index, not the post (migration 0005).
    # Ranking and the page are cut here too, so only the page's ids come back;
    # the LEFT JOIN keeps the count when the page is past the end.
    rows = (
        await session.execute(
            text(
                "WITH candidates AS MATERIALIZED ("
                " SELECT archive_fts.rowid AS post_id,"
                # Subject hits weigh more than body hits (bm25 column weights).
                " bm25(archive_fts, 4.0, 1.0) AS score"
                f" FROM archive_fts CROSS JOIN archive_post p INDEXED BY {VISIBILITY_INDEX}"
                " ON p.id = archive_fts.rowid"
                f" WHERE archive_fts MATCH :match AND {visible}"
                " ORDER BY archive_fts.rowid DESC LIMIT :found_limit),"
                " ranked AS (SELECT post_id, score FROM candidates"
                " ORDER BY post_id DESC LIMIT :ranked),"
                " shown AS (SELECT post_id, score FROM ranked"
                " ORDER BY score, post_id DESC LIMIT :limit OFFSET :offset)"
                " SELECT (SELECT count(*) FROM candidates) AS found, shown.post_id"
                " FROM (SELECT 1) LEFT JOIN shown ORDER BY shown.score, shown.post_id DESC"
            ),
            params,
        )
    ).all()
    found = int(rows[0].found) if rows else 0
    return _Ranking(found, [int(row.post_id) for row in rows if row.post_id is not None])


async def _sqlite_page(
    session: AsyncSession, readers: Sequence[Reader], match: str, post_ids: Sequence[int]
) -> list[Any]:
    """The posts `post_ids` (if still visible) with FTS5 highlight and snippet.

    highlight() and snippet() on archive_fts would have FTS5 re-run the query
    for each row (for a prefix query, merging every matching term's doclist
    each time). The page's few posts are copied into a temporary FTS5 table
    with the same tokenizer instead, and the same MATCH run there: the same
    hits, at the cost of indexing a page of text. The table lives in the
    connection's private temp database; the main database is only read, and
    the session's rollback empties the table again.
    """
    if not post_ids:
        return []
    params: dict[str, Any] = {"ids": list(post_ids)}
    visible = _visibility(readers, params)
    await session.execute(
        text(
            f"CREATE VIRTUAL TABLE IF NOT EXISTS temp.{PAGE_TABLE}"
            f" USING fts5(subject, text, tokenize='{FTS5_TOKENIZE}')"
        )
    )
    await session.execute(text(f"DELETE FROM temp.{PAGE_TABLE}"))
    await session.execute(
        text(
            f"INSERT INTO temp.{PAGE_TABLE} (rowid, subject, text)"
            f" SELECT p.id, p.subject, p.text FROM archive_post p WHERE p.id IN :ids AND {visible}"
        ).bindparams(bindparam("ids", expanding=True)),
        params,
    )
    # A post FTS5 does not match here (none should: it matched a moment ago)
    # is still shown, unmarked, rather than silently dropped from the page.
    rows = await session.execute(
        text(
            "SELECT p.id, p.list_id, p.message_id, p.date, p.label,"
            " coalesce(marked.subject, p.subject) AS subject,"
            f" coalesce(marked.snippet, substr(p.text, 1, {OPENING_CHARS})) AS snippet"
            f" FROM temp.{PAGE_TABLE} page CROSS JOIN archive_post p ON p.id = page.rowid"
            " LEFT JOIN ("
            f" SELECT rowid AS id, highlight({PAGE_TABLE}, 0, :start, :end) AS subject,"
            f" snippet({PAGE_TABLE}, 1, :start, :end, '…', {SNIPPET_WORDS}) AS snippet"
            f" FROM temp.{PAGE_TABLE} WHERE {PAGE_TABLE} MATCH :match"
            ") marked ON marked.id = p.id"
        ).columns(date=UtcDateTime()),
        {"match": match, "start": HIT_START, "end": HIT_END},
    )
    return list(rows.all())


# --- PostgreSQL (tsvector) ---------------------------------------------------------------------

# Ids covered by the first window; later windows are sized from the matches seen so far.
FIRST_WINDOW = 2000
MIN_WINDOW = 500
MAX_WINDOW_GROWTH = 8
_TSQUERY = "websearch_to_tsquery('simple', :query)"


async def _postgres_ranking(
    session: AsyncSession, readers: Sequence[Reader], query: str, offset: int, limit: int
) -> _Ranking:
    """The newest MAX_RANKED + 1 visible matches, by windows of ids from the newest back.

    A GIN index returns matches in no useful order: asking for the newest
    thousand of a common word would fetch every match, and the planner's
    other choice, walking the primary key backwards testing each post, reads
    the whole table for a rare phrase. A window `id > low AND id <= high`
    lets it combine the GIN index with the primary key (BitmapAnd) and touch
    only that window's matches; the windows grow until enough are found.
    """
    head = (
        await session.execute(
            text(f"SELECT numnode({_TSQUERY}) AS nodes, (SELECT max(id) FROM archive_post) AS top"),
            {"query": query},
        )
    ).one()
    if not head.nodes or head.top is None:
        return _Ranking(0, [])  # nothing to search for ("-", "(((") or nothing archived
    # Each window's bounds change the best plan; a cached generic plan would not.
    await session.execute(text("SET LOCAL plan_cache_mode = force_custom_plan"))
    # The planner prices `@@` like any operator and would test every post of a
    # window one by one (an index scan of the primary key); bitmap scans let it
    # AND the GIN index with the window instead, so only matches are read.
    await session.execute(text("SET LOCAL enable_indexscan = off"))
    params: dict[str, Any] = {"query": query}
    visible = _visibility(readers, params)
    # `p.id + 0` keeps the planner from walking the primary key backwards with
    # a LIMIT: right for a common word, a scan of the window for a rare phrase.
    window = text(
        f"SELECT p.id FROM archive_post p, {_TSQUERY} q"
        f" WHERE p.search_vector @@ q AND p.id > :low AND p.id <= :high AND {visible}"
        " ORDER BY p.id + 0 DESC LIMIT :limit"
    )
    found: list[int] = []
    high, width, scanned = int(head.top), FIRST_WINDOW, 0
    while high > 0 and len(found) <= MAX_RANKED:
        low = max(0, high - width)
        wanted = MAX_RANKED + 1 - len(found)
        ids = await session.scalars(window, {**params, "low": low, "high": high, "limit": wanted})
        found.extend(int(post_id) for post_id in ids)
        scanned += high - low
        high = low
        width = _next_width(width, len(found), scanned)
    await session.execute(text("RESET enable_indexscan"))
    if not found:
        return _Ranking(0, [])
    shown = await session.scalars(
        text(
            f"SELECT p.id FROM archive_post p, {_TSQUERY} q"
            " WHERE p.id = ANY(CAST(:ids AS integer[]))"
            " ORDER BY ts_rank(p.search_vector, q) DESC, p.id DESC LIMIT :limit OFFSET :offset"
        ),
        {"query": query, "ids": found[:MAX_RANKED], "limit": limit, "offset": offset},
    )
    return _Ranking(len(found), [int(post_id) for post_id in shown])


def _next_width(width: int, found: int, scanned: int) -> int:
    """The next window: enough ids for the matches still wanted at the density seen."""
    if found == 0:
        return width * MAX_WINDOW_GROWTH
    wanted = MAX_RANKED + 1 - found
    estimate = int(wanted * scanned / found * 1.5)
    return max(MIN_WINDOW, min(estimate, width * MAX_WINDOW_GROWTH))


async def _postgres_page(
    session: AsyncSession, readers: Sequence[Reader], query: str, post_ids: Sequence[int]
) -> list[Any]:
    if not post_ids:
        return []
    params: dict[str, Any] = {
        "query": query,
        "ids": list(post_ids),
        "subject_options": f'StartSel="{HIT_START}", StopSel="{HIT_END}", HighlightAll=true',
        "text_options": (
            f'StartSel="{HIT_START}", StopSel="{HIT_END}", MaxFragments=2,'
            f' MaxWords={SNIPPET_WORDS}, MinWords=12, FragmentDelimiter=" … "'
        ),
    }
    # ts_headline drops what its parser takes for HTML tags; angle brackets are
    # swapped for private-use characters and back, so "<b>" in a post stays text.
    subject = f"replace(replace(p.subject, '<', '{ANGLE_OPEN}'), '>', '{ANGLE_CLOSE}')"
    body = f"replace(replace(p.text, '<', '{ANGLE_OPEN}'), '>', '{ANGLE_CLOSE}')"
    visible = _visibility(readers, params)
    result = await session.execute(
        text(
            "SELECT p.id, p.list_id, p.message_id, p.date, p.label,"
            f" ts_headline('simple', {subject}, q, :subject_options) AS subject,"
            f" ts_headline('simple', {body}, q, :text_options) AS snippet"
            f" FROM archive_post p, {_TSQUERY} q"
            f" WHERE p.id = ANY(CAST(:ids AS integer[])) AND {visible}"
        ).columns(date=UtcDateTime()),
        params,
    )
    return list(result.all())


# --- Both ---------------------------------------------------------------------------------------


def _angles(text: str) -> str:
    return text.replace(ANGLE_OPEN, "<").replace(ANGLE_CLOSE, ">")


def _hits(
    readers: Sequence[Reader], rows: Sequence[Any], order: Sequence[int]
) -> tuple[SearchHit, ...]:
    """The rows as hits, in the ranked `order` of their ids."""
    addresses = {reader.list_id: reader.list_address for reader in readers}
    by_id = {row.id: row for row in rows}
    return tuple(
        SearchHit(
            list_address=addresses[row.list_id],
            token=token_of(row.message_id),
            subject=segments(_angles(row.subject or "")),
            snippet=segments(_angles(row.snippet or "")),
            date=row.date,
            label=row.label,
        )
        for row in (by_id[post_id] for post_id in order if post_id in by_id)
    )
