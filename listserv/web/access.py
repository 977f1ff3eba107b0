"""Who is asking, and what they may see: the dependencies every route uses.

    require_viewer       a signed-in browser (else: GET → the sign-in page, POST → 403)
    list_membership      …who is a member of the list in the path (else 404, so the
                         existence of lists and posts is not confirmed to outsiders)
    list_moderator       …with the moderator or owner role (else 403: they know the list)
    csrf_protected       a POST carrying the session's CSRF token (else 403)

Membership is read from the database on every request, not from a cache: a
member removed a second ago must not read on.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Annotated

from fastapi import Depends, HTTPException, Request
from sqlalchemy import select
from sqlmodel import col

from archive.reading import Reader
from listserv.config import Settings
from listserv.db import Database
from listserv.keys import Keys, keyed_digest
from listserv.models import MailingList, Member, Role
from listserv.web.ratelimit import WebLimits
from listserv.web.rendering import Pages, list_path
from listserv.web.security import CookieNames, Digests, tokens_equal
from listserv.web.sessions import SignedIn, find_session


@dataclass(frozen=True, slots=True)
class WebContext:
    """What the routes share; made once by `create_app`."""

    settings: Settings
    db: Database
    keys: Keys
    digests: Digests
    cookies: CookieNames
    pages: Pages
    limits: WebLimits
    clock: Callable[[], datetime]
    on_notice_queued: Callable[[], None] | None = None

    def now(self) -> datetime:
        return self.clock()


def web_context(request: Request) -> WebContext:
    context = request.app.state.web
    assert isinstance(context, WebContext)
    return context


Context = Annotated[WebContext, Depends(web_context)]


class SignInRequired(Exception):
    """Raised for a GET without a session: answered with a redirect to sign in."""

    def __init__(self, next_path: str) -> None:
        super().__init__(next_path)
        self.next_path = next_path


def client_address(request: Request) -> str:
    return request.client.host if request.client else "unknown"


async def optional_viewer(request: Request, context: Context) -> SignedIn | None:
    secret = request.cookies.get(context.cookies.session)
    if not secret or len(secret) > 200:
        return None
    viewer = await find_session(context.db, context.digests, secret, context.now())
    if viewer is not None:
        request.state.viewer = viewer
        request.state.csrf_token = context.digests.csrf_for_session(viewer.secret)
    return viewer


async def require_viewer(
    request: Request, viewer: Annotated[SignedIn | None, Depends(optional_viewer)]
) -> SignedIn:
    if viewer is not None:
        return viewer
    if request.method in ("GET", "HEAD"):
        path = request.url.path + (f"?{request.url.query}" if request.url.query else "")
        raise SignInRequired(path)
    raise HTTPException(403, "Your session has ended. Sign in again, then repeat what you did.")


Viewer = Annotated[SignedIn, Depends(require_viewer)]


FORM_REFUSED = (
    "This form has expired or did not come from this site. Reload the page and try again."
)


async def csrf_protected(request: Request, viewer: Viewer, context: Context) -> None:
    """Every POST of a signed-in page carries the session's form token."""
    form = await request.form()
    given = form.get("csrf_token")
    expected = context.digests.csrf_for_session(viewer.secret)
    if not isinstance(given, str) or not tokens_equal(given, expected):
        raise HTTPException(403, FORM_REFUSED)


@dataclass(frozen=True, slots=True)
class Membership:
    list_id: int
    list_address: str
    list_name: str
    member_id: int
    email: str
    role: Role
    reader: Reader

    @property
    def moderates(self) -> bool:
        return self.role in (Role.MODERATOR, Role.OWNER)

    @property
    def path(self) -> str:
        """The list's URL path, as the List-Archive header has it."""
        return list_path(self.list_address)


def reader_of(keys: Keys, list_address: str, member_id: int, list_id: int) -> Reader:
    digest = keyed_digest(keys.reader_key(list_address), str(member_id))
    return Reader(list_id=list_id, list_address=list_address, reader_digest=digest)


async def memberships(context: WebContext, email: str) -> list[Membership]:
    """Every list `email` belongs to, by address."""
    async with context.db.session() as session:
        rows = (
            await session.execute(
                select(MailingList, Member)
                .join(Member, col(Member.list_id) == col(MailingList.id))
                .where(col(Member.email) == email)
                .order_by(col(MailingList.address))
            )
        ).all()
    return [_membership(context.keys, mailing_list, member) for mailing_list, member in rows]


def _membership(keys: Keys, mailing_list: MailingList, member: Member) -> Membership:
    assert mailing_list.id is not None
    assert member.id is not None
    return Membership(
        list_id=mailing_list.id,
        list_address=mailing_list.address,
        list_name=mailing_list.name,
        member_id=member.id,
        email=member.email,
        role=Role(member.role),
        reader=reader_of(keys, mailing_list.address, member.id, mailing_list.id),
    )


NOT_FOUND = "There is nothing at this address, or you may not see it."


async def list_membership(list_address: str, viewer: Viewer, context: Context) -> Membership:
    async with context.db.session() as session:
        row = (
            await session.execute(
                select(MailingList, Member)
                .join(Member, col(Member.list_id) == col(MailingList.id))
                .where(
                    col(MailingList.address) == list_address.strip().lower(),
                    col(Member.email) == viewer.email,
                )
            )
        ).first()
    if row is None:
        raise HTTPException(404, NOT_FOUND)
    return _membership(context.keys, row[0], row[1])


ListMember = Annotated[Membership, Depends(list_membership)]


async def list_moderator(membership: ListMember) -> Membership:
    if not membership.moderates:
        raise HTTPException(403, "Only the list's moderators and owners see its held posts.")
    return membership


ListModerator = Annotated[Membership, Depends(list_moderator)]
