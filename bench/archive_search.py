"""Archive: search latency and thread-page render time over a large archive.

The archive is built on the real schema (`Database.migrate()`: archive_post,
archive_thread and the external-content FTS5 table `archive_fts` kept in
step by triggers), with `archive_posts` posts of incident-list prose in
threads of one to fifteen posts, inserted in bulk straight with SQL.

listserv search: `archive.search.search` (what GET /search runs) through the
server's async database layer, one query at a time, for a set of one-word,
two-word, phrase and prefix queries. If that module is missing, the same
shape of query (count, visibility join, bm25 order, snippet) in plain SQL.

Baseline: a bare FTS5 query on the same file with the stdlib sqlite3 module:
`SELECT rowid FROM archive_fts WHERE archive_fts MATCH ? ORDER BY rank LIMIT 20`.

Thread page: GET /lists/LIST/threads/TOKEN through the web application
(`listserv.web.app.create_app`, in-process over ASGI, signed in as a member),
against fetching the same thread's rows with bare SQL. Reported as not
available when the web application or archive/reading.py is missing.
"""

from __future__ import annotations

import base64
import hashlib
import random
import sqlite3
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import text

from bench.population import Prose
from bench.report import Row, ScenarioResult, not_available
from bench.sizes import Sizes
from bench.smtp_load import percentile
from listserv import registry
from listserv.db import Database
from listserv.models import NonMemberPolicy

LIST = "ciso@lists.example"
MEMBER = "reader@operator-a.example"
TARGET_P99_MS = 50.0
PER_PAGE = 20
THREAD_PAGES = 20
THREAD_SCENARIO = "archive thread page (web)"
QUERIES = (
    "phishing",
    "ransomware",
    "bgp hijack",
    "kerberos",
    "custody",
    "nis2 deadline",
    '"packet loss"',
    "ransom*",
    "exploit* firmware",
    "dkim dmarc spoofing",
    "sinkhole c2",
    "the",
    "credentials reset mfa",
    '"false positive"',
    "amplification udp",
    "yara sigma rule",
)
BARE_SQL = "SELECT rowid FROM archive_fts WHERE archive_fts MATCH ? ORDER BY rank LIMIT 20"
# The shape of a search when archive/search.py is not there: count, visibility, rank, snippet.
FALLBACK_COUNT = (
    "SELECT count(*) FROM archive_fts JOIN archive_post p ON p.id = archive_fts.rowid"
    " WHERE archive_fts MATCH :match AND p.list_id = :list AND p.label != 'TLP:RED'"
    " AND NOT p.restricted"
)
FALLBACK_PAGE = (
    "SELECT p.message_id, p.date, p.label, highlight(archive_fts, 0, '[', ']') AS subject,"
    " snippet(archive_fts, 1, '[', ']', '…', 32) AS snippet"
    " FROM archive_fts JOIN archive_post p ON p.id = archive_fts.rowid"
    " WHERE archive_fts MATCH :match AND p.list_id = :list AND p.label != 'TLP:RED'"
    " AND NOT p.restricted ORDER BY bm25(archive_fts, 4.0, 1.0), p.seq DESC LIMIT 20"
)


def _sql_time(value: datetime) -> str:
    """How SQLAlchemy stores a DateTime in SQLite."""
    return value.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S.%f")


def keyed_token(number: int) -> str:
    """26 base32 characters, like filters.archive_ids.keyed_message_id."""
    digest = hashlib.sha256(f"bench-post-{number}".encode()).digest()
    return base64.b32encode(digest).decode().lower()[:26]


class SentencePool:
    """Bodies made of sentences drawn from a fixed pool: a hundred thousand
    posts of fresh random words would take longer to write than to index."""

    def __init__(self, prose: Prose, size: int) -> None:
        self._rng = prose.rng
        self._sentences = [prose.sentence() for _ in range(size)]

    def body(self, words: int) -> str:
        chosen = self._rng.choices(self._sentences, k=max(1, words // 12))
        return "\n\n".join(
            " ".join(chosen[start : start + 4]) for start in range(0, len(chosen), 4)
        )


@dataclass(frozen=True, slots=True)
class BuiltArchive:
    path: Path
    list_id: int
    posts: int
    threads: int
    thread_tokens: list[str]  # first posts of threads with several posts
    seconds: float


async def build_archive(workdir: Path, posts: int, *, seed: int = 61) -> BuiltArchive:
    """A migrated database with `posts` archived posts of one list."""
    started = time.monotonic()
    path = workdir / "archive.db"
    db = Database(f"sqlite:///{path}")
    try:
        await db.migrate()
        async with db.transaction() as session:
            created = await registry.create_list(
                session, LIST, name="CISO reference group", nonmember_policy=NonMemberPolicy.REJECT
            )
            details = registry.member_details(MEMBER, name="Reader", organisation="Operator A")
            await registry.add_member(session, created, details)
            assert created.id is not None
            list_id = created.id
    finally:
        await db.dispose()

    prose = Prose(seed)
    pool = SentencePool(prose, 20_000)
    rng = random.Random(seed)
    connection = sqlite3.connect(path)
    connection.execute("PRAGMA synchronous=OFF")  # building only; the server uses FULL
    # One FTS5 'rebuild' after the bulk insert indexes much faster than the
    # insert trigger row by row; the trigger is put back exactly as it was.
    insert_trigger = connection.execute(
        "SELECT sql FROM sqlite_master WHERE type = 'trigger' AND name = 'archive_post_ai'"
    ).fetchone()
    if insert_trigger is not None:
        connection.execute("DROP TRIGGER archive_post_ai")
    start = datetime(2022, 1, 3, 8, tzinfo=UTC)
    span = timedelta(days=3 * 365)
    thread_rows: list[tuple[Any, ...]] = []
    post_rows: list[tuple[Any, ...]] = []
    thread_tokens: list[str] = []
    number = 0
    thread_id = 0
    labels = ("TLP:AMBER", "TLP:AMBER", "TLP:GREEN", "TLP:CLEAR", "TLP:AMBER")

    def flush() -> None:
        connection.executemany(
            "INSERT INTO archive_thread (id, list_id, root_id, subject, label, first_at,"
            " last_at, post_count) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            thread_rows,
        )
        connection.executemany(
            "INSERT INTO archive_post (id, list_id, thread_id, seq, message_id, parent_post_id,"
            ' in_reply_to, "references", subject, date, label, participant, text, form, flags,'
            " restricted, created_at) VALUES"
            " (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, '[]', 0, ?)",
            post_rows,
        )
        connection.commit()
        thread_rows.clear()
        post_rows.clear()

    while number < posts:
        thread_id += 1
        size = min(posts - number, max(1, int(rng.expovariate(1 / 4.0)) + 1), 15)
        subject = prose.subject()
        label = rng.choice(labels)
        first_at = start + span * (number / posts)
        ids: list[int] = []
        domain = LIST.rsplit("@", 1)[1]
        for position in range(size):
            number += 1
            token = keyed_token(number)
            message_id = f"<{token}@archive.{domain}>"
            parent = rng.choice(ids) if ids else None
            date = first_at + timedelta(minutes=37 * position)
            body = pool.body(rng.randint(40, 260))
            if parent is not None and rng.random() < 0.5:
                body += "\n\n" + "\n".join(f"> {line}" for line in pool.body(40).splitlines())
            post_subject = subject if position == 0 else f"Re: {subject}"
            participant = f"Participant {chr(ord('A') + rng.randrange(min(position + 1, 8)))}"
            form = (
                f"From: {participant} <participant@archive.invalid>\nSubject: {post_subject}\n"
                f"Message-ID: {message_id}\nTLP: {label.split(':')[1]}\n\n{body}\n"
            ).encode()
            post_rows.append(
                (
                    number,
                    list_id,
                    thread_id,
                    number,
                    message_id,
                    parent,
                    None,
                    "[]",
                    post_subject,
                    _sql_time(date),
                    label,
                    participant,
                    body,
                    form,
                    _sql_time(date),
                )
            )
            if position == 0 and size >= 4 and len(thread_tokens) < 200:
                thread_tokens.append(token)
            ids.append(number)
        thread_rows.append(
            (
                thread_id,
                list_id,
                post_rows[-size][4],
                subject,
                label,
                _sql_time(first_at),
                _sql_time(first_at + timedelta(minutes=37 * (size - 1))),
                size,
            )
        )
        if len(post_rows) >= 2000:
            flush()
    flush()
    connection.execute("INSERT INTO archive_fts(archive_fts) VALUES ('rebuild')")
    if insert_trigger is not None:
        connection.execute(insert_trigger[0])
    connection.commit()
    connection.close()
    return BuiltArchive(path, list_id, number, thread_id, thread_tokens, time.monotonic() - started)


@dataclass
class Timings:
    calls: list[tuple[int, float]]  # (item, seconds) per timed call
    complete: bool = True  # False: the time budget ran out before every round was done

    @property
    def seconds(self) -> list[float]:
        return [seconds for _, seconds in self.calls]

    def ms(self, fraction: float) -> float:
        return percentile(self.seconds, fraction) * 1000

    def slowest_ms(self, item: int) -> float | None:
        found = [seconds for index, seconds in self.calls if index == item]
        return round(max(found) * 1000, 2) if found else None


async def _timed(
    work: Callable[[int], Awaitable[object]], rounds: int, items: int, *, budget: float
) -> Timings:
    """Seconds per call of work(0 … items-1), `rounds` times, after one untimed round.

    Stops early once `budget` seconds have passed (a search that takes
    seconds per query would otherwise hold the run for an hour); the calls
    timed so far, the warm-up round's included, are then what is reported.
    """
    started = time.monotonic()
    warmup: list[tuple[int, float]] = []
    timed: list[tuple[int, float]] = []
    for round_number in range(rounds + 1):
        calls = warmup if round_number == 0 else timed
        for index in range(items):
            before = time.perf_counter()
            await work(index)
            calls.append((index, time.perf_counter() - before))
            if time.monotonic() - started > budget:
                return Timings(warmup + timed, complete=False)
    return Timings(timed)


async def _search_timings(built: BuiltArchive, sizes: Sizes) -> tuple[Timings, str, dict[str, int]]:
    """listserv's search: archive.search.search, or the fallback SQL of the same shape."""
    db = Database(f"sqlite:///{built.path}")
    totals: dict[str, int] = {}
    work: Callable[[int], Awaitable[object]]
    try:
        from archive.reading import Reader
        from archive.search import search
    except ImportError:
        path = "plain SQL (archive/search.py missing)"

        async def work(index: int) -> object:
            values = {"match": QUERIES[index], "list": built.list_id}
            async with db.session() as session:
                total = await session.scalar(text(FALLBACK_COUNT), values)
                rows = (await session.execute(text(FALLBACK_PAGE), values)).all()
            totals[QUERIES[index]] = int(total or 0)
            return rows

    else:
        path = "archive.search.search"
        reader = Reader(built.list_id, LIST, "bench-reader-digest")

        async def work(index: int) -> object:
            async with db.session() as session:
                results = await search(session, [reader], QUERIES[index], per_page=PER_PAGE)
            totals[QUERIES[index]] = results.total
            return results

    try:
        timings = await _timed(
            work, sizes.archive_rounds, len(QUERIES), budget=sizes.archive_budget_seconds
        )
    finally:
        await db.dispose()
    return timings, path, totals


def _bare_match(query: str) -> str:
    """The MATCH expression listserv's search would use, so both sides find the same."""
    try:
        from archive.search import fts5_query
    except ImportError:
        return query
    return fts5_query(query) or query


async def _bare_timings(built: BuiltArchive, sizes: Sizes) -> Timings:
    connection = sqlite3.connect(built.path)
    matches = [_bare_match(query) for query in QUERIES]

    async def bare(index: int) -> object:
        return connection.execute(BARE_SQL, (matches[index],)).fetchall()

    try:
        return await _timed(
            bare, sizes.archive_rounds, len(QUERIES), budget=sizes.archive_budget_seconds
        )
    finally:
        connection.close()


async def _thread_page_timings(built: BuiltArchive, workdir: Path, sizes: Sizes) -> Timings:
    """GET /lists/LIST/threads/TOKEN through the web app, signed in as a member."""
    import httpx

    from bench.web_session import signed_in_app

    tokens = built.thread_tokens[:THREAD_PAGES]
    async with signed_in_app(built.path, workdir, LIST, MEMBER) as (app, cookies):
        transport = httpx.ASGITransport(app=app, client=("192.0.2.10", 50000))
        async with httpx.AsyncClient(
            transport=transport, base_url="https://lists.example", cookies=cookies
        ) as client:

            async def get_thread(index: int) -> object:
                response = await client.get(f"/lists/{LIST}/threads/{tokens[index]}")
                if response.status_code != 200:
                    raise RuntimeError(f"the thread page answered {response.status_code}")
                return response

            return await _timed(
                get_thread, sizes.archive_rounds, len(tokens), budget=sizes.archive_budget_seconds
            )


async def _thread_rows_timings(built: BuiltArchive, sizes: Sizes) -> Timings:
    connection = sqlite3.connect(built.path)
    tokens = built.thread_tokens[:THREAD_PAGES]
    domain = LIST.rsplit("@", 1)[1]

    async def rows(index: int) -> object:
        message_id = f"<{tokens[index]}@archive.{domain}>"
        return connection.execute(
            "SELECT subject, date, label, participant, text, parent_post_id FROM archive_post"
            " WHERE thread_id = (SELECT thread_id FROM archive_post WHERE list_id = ? AND"
            " message_id = ?) ORDER BY seq",
            (built.list_id, message_id),
        ).fetchall()

    try:
        return await _timed(
            rows, sizes.archive_rounds, len(tokens), budget=sizes.archive_budget_seconds
        )
    finally:
        connection.close()


def _latencies(timings: Timings) -> str:
    text = f"p50 {timings.ms(0.5):.1f} ms, p99 {timings.ms(0.99):.1f} ms"
    return text if timings.complete else text + " (time budget ran out)"


async def run(sizes: Sizes, workdir: Path) -> ScenarioResult:
    built = await build_archive(workdir, sizes.archive_posts)
    searches, search_path, totals = await _search_timings(built, sizes)
    bare = await _bare_timings(built, sizes)
    search_row = Row(
        scenario=f"archive search ({built.posts:,} posts)",
        listserv=_latencies(searches),
        baseline=_latencies(bare),
        ratio=bare.ms(0.5) / searches.ms(0.5) if searches.ms(0.5) else None,
        target=TARGET_P99_MS,
        comparison="below",
        target_value=searches.ms(0.99),
        target_unit="ms p99",
        note=""
        if searches.complete
        else (
            f"search budget of {sizes.archive_budget_seconds:.0f} s ran out after"
            f" {len(searches.calls)} of {len(QUERIES) * (sizes.archive_rounds + 1)} queries"
        ),
    )
    details: dict[str, Any] = {
        "posts": built.posts,
        "threads": built.threads,
        "build_s": round(built.seconds, 2),
        "database_bytes": built.path.stat().st_size,
        "search_through": search_path,
        "rounds": sizes.archive_rounds,
        "search_complete": searches.complete,
        "search_ms": {"p50": round(searches.ms(0.5), 2), "p99": round(searches.ms(0.99), 2)},
        "bare_fts5_ms": {"p50": round(bare.ms(0.5), 2), "p99": round(bare.ms(0.99), 2)},
        "queries": {
            query: {
                "matches": totals.get(query),
                "slowest_search_ms": searches.slowest_ms(index),
                "slowest_bare_ms": bare.slowest_ms(index),
            }
            for index, query in enumerate(QUERIES)
        },
    }
    rows = [search_row]
    try:
        pages = await _thread_page_timings(built, workdir, sizes)
    except ImportError as error:
        rows.append(not_available(THREAD_SCENARIO, f"the web application is missing ({error})"))
    except Exception as error:  # the web is young: report it, keep the other figures
        rows.append(not_available(THREAD_SCENARIO, f"{type(error).__name__}: {error}"[:200]))
    else:
        fetch = await _thread_rows_timings(built, sizes)
        rows.append(
            Row(
                scenario=THREAD_SCENARIO,
                listserv=_latencies(pages),
                baseline=f"p50 {fetch.ms(0.5):.2f} ms (its rows by SQL)",
                note="no target; the baseline only fetches the thread's rows",
            )
        )
        details["thread_page_ms"] = {
            "p50": round(pages.ms(0.5), 2),
            "p99": round(pages.ms(0.99), 2),
        }
        details["thread_rows_ms"] = {"p50": round(fetch.ms(0.5), 3)}
    return ScenarioResult("archive", rows, details)
