"""Leaving a list: the page behind the distribution copy's List-Unsubscribe header.

    GET  /lists/{list}/leave   asks to confirm (a GET never changes anything)
    POST /lists/{list}/leave   removes the signed-in member, in one transaction

RFC 8058 one-click unsubscription is not offered (filters/list_headers.py:
one rendered copy per fan-out cannot carry a per-recipient URI), so this
page identifies the member by their sign-in.
"""

from __future__ import annotations

from fastapi import APIRouter, Depends, HTTPException, Request
from starlette.responses import Response

from listserv import registry
from listserv.errors import NotFound
from listserv.web.access import NOT_FOUND, Context, ListMember, csrf_protected

router = APIRouter()


@router.get("/lists/{list_address}/leave")
async def leave_form(request: Request, context: Context, membership: ListMember) -> Response:
    return context.pages.render(
        request, "leave.html", {"title": f"Leave {membership.list_name}", "membership": membership}
    )


@router.post("/lists/{list_address}/leave", dependencies=[Depends(csrf_protected)])
async def leave(request: Request, context: Context, membership: ListMember) -> Response:
    try:
        async with context.db.transaction() as session:
            mailing_list = await registry.get_list(session, membership.list_address)
            await registry.remove_member(session, mailing_list, membership.email)
    except NotFound:
        raise HTTPException(404, NOT_FOUND) from None
    return context.pages.render(
        request, "left.html", {"title": "You have left the list", "membership": membership}
    )
