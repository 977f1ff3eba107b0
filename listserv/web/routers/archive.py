"""The archive: the member's lists, a list's threads, threads, posts, attachments, search.

    GET /                                             the signed-in member's lists
    GET /lists/{list}/                                threads, newest activity first (List-Archive)
    GET /lists/{list}/threads/{token}                 a thread, posts nested by reply
    GET /lists/{list}/posts/{token}                   one post (Archived-At)
    GET /lists/{list}/posts/{token}/attachments/{n}   a scrubbed attachment, as a download
    GET /search?q=…&list=…&page=…                     search the lists the member may read

Tokens are the 26 characters of a post's keyed id; anything the member may
not read is answered exactly like something that does not exist (404).
"""

from __future__ import annotations

import re
from typing import Annotated

from fastapi import APIRouter, HTTPException, Query, Request
from starlette.responses import RedirectResponse, Response

from archive import reading
from archive.search import search as search_archive
from listserv.web.access import NOT_FOUND, Context, ListMember, Viewer, memberships
from listserv.web.security import DOWNLOAD_POLICY

router = APIRouter()

Page = Annotated[int, Query(ge=1, le=100_000)]
THREADS_PER_PAGE = 50
HITS_PER_PAGE = 20
# What a Content-Type value of ours must look like to be sent as it is.
_MEDIA_TYPE = re.compile(r"[a-z0-9][a-z0-9!#$&^_.+-]{0,63}/[a-z0-9][a-z0-9!#$&^_.+-]{0,126}")
_FILENAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,100}")


@router.get("/")
async def home(request: Request, context: Context, viewer: Viewer) -> Response:
    lists = await memberships(context, viewer.email)
    return context.pages.render(request, "lists.html", {"title": "Your lists", "lists": lists})


@router.get("/lists")
async def lists_index() -> Response:
    return RedirectResponse("/", status_code=303)


@router.get("/lists/{list_address}/")
async def list_threads(
    request: Request, context: Context, membership: ListMember, page: Page = 1
) -> Response:
    async with context.db.session() as session:
        threads = await reading.thread_page(
            session, membership.reader, page=page, per_page=THREADS_PER_PAGE
        )
    return context.pages.render(
        request,
        "list.html",
        {"title": membership.list_name, "membership": membership, "threads": threads},
    )


@router.get("/lists/{list_address}/threads/{token}")
async def thread_page(
    request: Request, context: Context, membership: ListMember, token: str
) -> Response:
    async with context.db.session() as session:
        thread = await reading.thread(session, membership.reader, token)
    if thread is None:
        raise HTTPException(404, NOT_FOUND)
    return context.pages.render(
        request,
        "thread.html",
        {
            "title": thread.summary.subject or "(no subject)",
            "membership": membership,
            "thread": thread,
        },
    )


@router.get("/lists/{list_address}/posts/{token}")
async def post_page(
    request: Request, context: Context, membership: ListMember, token: str
) -> Response:
    async with context.db.session() as session:
        post = await reading.post(session, membership.reader, token)
    if post is None:
        raise HTTPException(404, NOT_FOUND)
    return context.pages.render(
        request,
        "post.html",
        {
            "title": post.subject or "(no subject)",
            "membership": membership,
            "post": post,
        },
    )


@router.get("/lists/{list_address}/posts/{token}/attachments/{position}")
async def attachment_download(
    context: Context, membership: ListMember, token: str, position: int
) -> Response:
    async with context.db.session() as session:
        found = await reading.attachment(session, membership.reader, token, position)
    if found is None:
        raise HTTPException(404, NOT_FOUND)
    media_type = found.content_type.strip().lower()
    if not _MEDIA_TYPE.fullmatch(media_type) or media_type.startswith("text/html"):
        media_type = "application/octet-stream"
    filename = found.filename if _FILENAME.fullmatch(found.filename) else f"attachment-{position}"
    return Response(
        found.data,
        media_type=media_type,
        headers={
            "Content-Disposition": f'attachment; filename="{filename}"',
            "Content-Security-Policy": DOWNLOAD_POLICY,
        },
    )


@router.get("/search")
async def search_page(
    request: Request,
    context: Context,
    viewer: Viewer,
    q: Annotated[str, Query(max_length=500)] = "",
    list_address: Annotated[str, Query(alias="list", max_length=320)] = "",
    page: Page = 1,
) -> Response:
    lists = await memberships(context, viewer.email)
    selected = list_address.strip().lower()
    scope = [m for m in lists if not selected or m.list_address == selected]
    results = None
    if q.strip():
        async with context.db.session() as session:
            results = await search_archive(
                session, [m.reader for m in scope], q, page=page, per_page=HITS_PER_PAGE
            )
    return context.pages.render(
        request,
        "search.html",
        {
            "title": f"Search: {q}" if q.strip() else "Search",
            "lists": lists,
            "selected_list": selected,
            "q": q,
            "results": results,
        },
    )
