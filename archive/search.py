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
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from archive.reading import RED, Reader, token_of
from listserv.models import UtcDateTime

MAX_QUERY_CHARS = 200
MAX_TERMS = 12
# Private-use characters mark hits inside highlighted text; they are turned
# into segments before anything is shown.
HIT_START = "\ue000"
HIT_END = "\ue001"
ANGLE_OPEN = "\ue002"
ANGLE_CLOSE = "\ue003"
_TERM = re.compile(r'"([^"]*)"?|(\S+)')


def fts5_query(user_query: str) -> str | None:
    """An FTS5 MATCH expression with every term quoted, or None if nothing to search.

    `"a phrase"` stays a phrase; a bare word ending in `*` is a prefix search;
    everything else is a literal term. Terms are ANDed.
    """
    cleaned = "".join(
        ch if unicodedata.category(ch)[0] != "C" else " " for ch in user_query[:MAX_QUERY_CHARS]
    )
    parts: list[str] = []
    for found in _TERM.finditer(cleaned):
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


@dataclass(frozen=True, slots=True)
class Segment:
    text: str
    hit: bool


def segments(marked: str) -> tuple[Segment, ...]:
    """Split text with HIT_START/HIT_END markers into plain and hit segments."""
    result: list[Segment] = []
    hit = False
    current: list[str] = []
    for ch in marked:
        if ch in (HIT_START, HIT_END):
            if current:
                result.append(Segment("".join(current), hit))
                current = []
            hit = ch == HIT_START
        else:
            current.append(ch)
    if current:
        result.append(Segment("".join(current), hit))
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
    query: str
    hits: tuple[SearchHit, ...]
    total: int
    page: int
    per_page: int

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // self.per_page))


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
    """Posts matching `query` among those `readers` may read, best match first."""
    empty = SearchResults(query, (), 0, page, per_page)
    if not readers:
        return empty
    dialect = session.bind.dialect.name
    if dialect == "sqlite":
        match = fts5_query(query)
        if match is None:
            return empty
        return await _search_sqlite(session, readers, query, match, page, per_page)
    if not query.strip():
        return empty
    return await _search_postgres(session, readers, query, page, per_page)


_SQLITE_FROM = "FROM archive_fts JOIN archive_post p ON p.id = archive_fts.rowid"


async def _search_sqlite(
    session: AsyncSession,
    readers: Sequence[Reader],
    query: str,
    match: str,
    page: int,
    per_page: int,
) -> SearchResults:
    params: dict[str, Any] = {"match": match, "start": HIT_START, "end": HIT_END}
    where = f"archive_fts MATCH :match AND {_visibility(readers, params)}"
    total = await session.scalar(text(f"SELECT count(*) {_SQLITE_FROM} WHERE {where}"), params)
    rows = (
        await session.execute(
            text(
                "SELECT p.list_id, p.message_id, p.date, p.label,"
                " highlight(archive_fts, 0, :start, :end) AS subject,"
                " snippet(archive_fts, 1, :start, :end, '…', 32) AS snippet"
                f" {_SQLITE_FROM} WHERE {where}"
                # Subject hits weigh more than body hits (bm25 column weights).
                " ORDER BY bm25(archive_fts, 4.0, 1.0), p.seq DESC"
                " LIMIT :limit OFFSET :offset"
            ).columns(date=UtcDateTime()),
            {**params, "limit": per_page, "offset": (page - 1) * per_page},
        )
    ).all()
    return SearchResults(query, _hits(readers, rows), int(total or 0), page, per_page)


async def _search_postgres(
    session: AsyncSession,
    readers: Sequence[Reader],
    query: str,
    page: int,
    per_page: int,
) -> SearchResults:
    params: dict[str, Any] = {
        "query": query[:MAX_QUERY_CHARS],
        "subject_options": f'StartSel="{HIT_START}", StopSel="{HIT_END}", HighlightAll=true',
        "text_options": (
            f'StartSel="{HIT_START}", StopSel="{HIT_END}", MaxFragments=2,'
            ' MaxWords=32, MinWords=12, FragmentDelimiter=" … "'
        ),
    }
    source = "FROM archive_post p, websearch_to_tsquery('simple', :query) q"
    # ts_headline drops what its parser takes for HTML tags; angle brackets are
    # swapped for private-use characters and back, so "<b>" in a post stays text.
    subject = f"replace(replace(p.subject, '<', '{ANGLE_OPEN}'), '>', '{ANGLE_CLOSE}')"
    body = f"replace(replace(p.text, '<', '{ANGLE_OPEN}'), '>', '{ANGLE_CLOSE}')"
    where = f"p.search_vector @@ q AND {_visibility(readers, params)}"
    total = await session.scalar(text(f"SELECT count(*) {source} WHERE {where}"), params)
    rows = (
        await session.execute(
            text(
                "SELECT p.list_id, p.message_id, p.date, p.label,"
                f" ts_headline('simple', {subject}, q, :subject_options) AS subject,"
                f" ts_headline('simple', {body}, q, :text_options) AS snippet"
                f" {source} WHERE {where}"
                " ORDER BY ts_rank(p.search_vector, q) DESC, p.seq DESC"
                " LIMIT :limit OFFSET :offset"
            ).columns(date=UtcDateTime()),
            {**params, "limit": per_page, "offset": (page - 1) * per_page},
        )
    ).all()
    return SearchResults(query, _hits(readers, rows), int(total or 0), page, per_page)


def _angles(text: str) -> str:
    return text.replace(ANGLE_OPEN, "<").replace(ANGLE_CLOSE, ">")


def _hits(readers: Sequence[Reader], rows: Sequence[Any]) -> tuple[SearchHit, ...]:
    addresses = {reader.list_id: reader.list_address for reader in readers}
    return tuple(
        SearchHit(
            list_address=addresses[row.list_id],
            token=token_of(row.message_id),
            subject=segments(_angles(row.subject or "")),
            snippet=segments(_angles(row.snippet or "")),
            date=row.date,
            label=row.label,
        )
        for row in rows
    )
