"""The moderation queue of a list, for its moderators and owners.

    GET  /lists/{list}/held                      held posts: reasons, sender, archive preview
    POST /lists/{list}/held/{id}/approve         listserv.moderation.approve(…, via="web")
    POST /lists/{list}/held/{id}/reject          listserv.moderation.reject(…, via="web")

Moderators are accountable, so they see who sent a held post; the archive
preview next to it is what members would read. A decision goes through the
same functions as the mailed approval tokens and the CLI, and is recorded
with the signed-in moderator's address.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Form, HTTPException, Request
from sqlalchemy import select
from sqlmodel import col
from starlette.responses import RedirectResponse, Response

from listserv import moderation
from listserv.errors import NotFound
from listserv.models import InboundMessage
from listserv.web.access import NOT_FOUND, Context, ListModerator, csrf_protected

router = APIRouter()

OUTCOMES = {
    moderation.Verdict.APPROVED: "Approved. The post is on its way to the members.",
    moderation.Verdict.REJECTED: "Rejected. The post will not be distributed.",
    moderation.Verdict.ALREADY_DECIDED: "Someone decided on that post already.",
    moderation.Verdict.NOT_FOUND: "That held post no longer exists.",
    moderation.Verdict.NOT_ALLOWED: "Only the list's moderators and owners may decide.",
    moderation.Verdict.EXPIRED: "That post waited too long and has expired.",
}


@router.get("/lists/{list_address}/held")
async def held_queue(
    request: Request, context: Context, membership: ListModerator, done: str = ""
) -> Response:
    try:
        held = await moderation.held_posts(context.db, membership.list_address)
    except NotFound:  # the list was deleted a moment ago
        raise HTTPException(404, NOT_FOUND) from None
    outcome = next((text for verdict, text in OUTCOMES.items() if verdict.value == done), None)
    return context.pages.render(
        request,
        "held.html",
        {
            "title": f"Held posts · {membership.list_name}",
            "membership": membership,
            "held": held,
            "outcome": outcome,
        },
    )


async def _held_of_list(context: Context, membership: ListModerator, held_id: int) -> None:
    """404 unless `held_id` is a post sent to this list (held now or decided already)."""
    async with context.db.session() as session:
        list_id = await session.scalar(
            select(InboundMessage.list_id).where(col(InboundMessage.id) == held_id)
        )
    if list_id is None or list_id != membership.list_id:
        raise HTTPException(404, NOT_FOUND)


def _back(membership: ListModerator, verdict: moderation.Verdict) -> Response:
    return RedirectResponse(f"{membership.path}/held?done={verdict.value}", status_code=303)


@router.post("/lists/{list_address}/held/{held_id}/approve", dependencies=[Depends(csrf_protected)])
async def approve_held(context: Context, membership: ListModerator, held_id: int) -> Response:
    await _held_of_list(context, membership, held_id)
    verdict = await moderation.approve(context.db, held_id, moderator=membership.email, via="web")
    return _back(membership, verdict)


@router.post("/lists/{list_address}/held/{held_id}/reject", dependencies=[Depends(csrf_protected)])
async def reject_held(
    context: Context,
    membership: ListModerator,
    held_id: int,
    reason: Annotated[str, Form(max_length=1000)] = "",
) -> Response:
    await _held_of_list(context, membership, held_id)
    verdict = await moderation.reject(
        context.db, held_id, moderator=membership.email, via="web", reason=reason.strip()
    )
    return _back(membership, verdict)
