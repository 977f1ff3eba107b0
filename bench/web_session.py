"""The web application over a bench database, with a member signed in.

Sign-in goes the way a member's does, minus the mailbox: ask for a link
(`request_link`, which queues the notice mail), read the link out of the
queued notice, and use it once (`consume_link`), which opens the session
whose secret is the cookie.
"""

from __future__ import annotations

import contextlib
import re
from collections.abc import AsyncIterator
from email import message_from_bytes, policy
from email.message import EmailMessage
from pathlib import Path

from fastapi import FastAPI
from sqlalchemy import select
from sqlmodel import col

from listserv.config import settings_from_dict
from listserv.db import Database
from listserv.keys import Keys
from listserv.models import OutboundMessage, utcnow
from listserv.web.app import create_app
from listserv.web.ratelimit import WebLimits
from listserv.web.security import CookieNames, Digests
from listserv.web.sessions import LinkSettings, consume_link, request_link

BASE_URL = "https://lists.example"
LINK = re.compile(r"/signin/link/([A-Za-z0-9_-]+)")


@contextlib.asynccontextmanager
async def signed_in_app(
    database: Path, workdir: Path, list_address: str, member: str
) -> AsyncIterator[tuple[FastAPI, dict[str, str]]]:
    """The app over `database`, and the cookies of `member`'s session."""
    settings = settings_from_dict(
        {
            "database": {"url": f"sqlite:///{database}"},
            "web": {"base_url": BASE_URL, "enabled": True},
            "security": {"secret_key_file": str(workdir / "secret.key")},
        },
        source="bench",
        base_dir=workdir,
    )
    Keys.create(settings.secret_key_path)
    keys = Keys.load(settings.secret_key_path)
    db = Database(settings.database_url)
    try:
        digests = Digests.of(keys)
        now = utcnow()
        await request_link(
            db,
            digests,
            LinkSettings(base_url=BASE_URL, limits=WebLimits()),
            email=member,
            client="192.0.2.10",
            next_path="/",
            now=now,
        )
        async with db.session() as session:
            content = await session.scalar(
                select(OutboundMessage.content)
                .where(col(OutboundMessage.kind) == "notice")
                .order_by(col(OutboundMessage.id).desc())
            )
        if content is None:
            raise RuntimeError("no sign-in link was queued")
        notice = message_from_bytes(content, policy=policy.default)
        assert isinstance(notice, EmailMessage)
        body = notice.get_body(("plain",))
        found = LINK.search(body.get_content() if body is not None else "")
        if found is None:
            raise RuntimeError("the sign-in notice holds no link")
        opened = await consume_link(db, digests, found.group(1), now)
        if opened is None:
            raise RuntimeError("the sign-in link did not open a session")
        cookies = {CookieNames.for_base_url(BASE_URL).session: opened.secret}
        yield create_app(settings, db, keys), cookies
    finally:
        await db.dispose()
