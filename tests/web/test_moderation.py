"""The moderation queue on the web: who sees it, what it shows, and decisions."""

from __future__ import annotations

from email.message import EmailMessage

import httpx
from fastapi import FastAPI

from listserv import registry
from listserv.db import Database
from listserv.models import InboundMessage, InboundState, utcnow
from tests.web.conftest import ALICE, BOB, DAVE, LIST, OTHER, client_for
from tests.web.helpers import csrf_of, sign_in

STRANGER = "mallory@outside.example"


async def hold_post(db: Database, list_address: str, subject: str, body: str) -> int:
    """A post held for a non-member, in the state the pipeline leaves it."""
    message = EmailMessage()
    message["From"] = f"Mallory <{STRANGER}>"
    message["To"] = list_address
    message["Subject"] = subject
    message["Message-ID"] = "<held-1@outside.example>"
    message.set_content(body)
    raw = message.as_bytes()
    async with db.transaction() as session:
        mailing_list = await registry.get_list(session, list_address)
        assert mailing_list.id is not None
        row = InboundMessage(
            list_id=mailing_list.id,
            mail_from=STRANGER,
            raw=raw,
            size=len(raw),
            state=InboundState.HELD.value,
            reasons="nonmember",
            label="TLP:AMBER",
            held_at=utcnow(),
            preview_text=body.replace("Mallory", "[participant]"),
        )
        session.add(row)
        await session.flush()
        assert row.id is not None
        return row.id


async def inbound(db: Database, inbound_id: int) -> InboundMessage:
    async with db.session() as session:
        row = await session.get(InboundMessage, inbound_id)
    assert row is not None
    return row


async def test_a_moderator_sees_sender_reasons_and_preview_and_approves(
    client: httpx.AsyncClient, db: Database
) -> None:
    held = await hold_post(db, LIST, "Offer <b>now</b>", "Hello from Mallory\nhttps://x.example/")
    await sign_in(client, db, BOB)
    queue = await client.get(f"/lists/{LIST}/held")
    assert queue.status_code == 200
    assert STRANGER in queue.text
    assert "The sender is not a member of the list." in queue.text
    assert "Hello from [participant]" in queue.text
    assert "Offer &lt;b&gt;now&lt;/b&gt;" in queue.text
    decided = await client.post(
        f"/lists/{LIST}/held/{held}/approve", data={"csrf_token": csrf_of(queue)}
    )
    assert decided.status_code == 303
    assert decided.headers["location"] == f"/lists/{LIST}/held?done=approved"
    row = await inbound(db, held)
    assert row.state == InboundState.QUEUED.value  # back to the pipeline
    assert row.moderated_by == BOB
    assert row.moderation_via == "web"
    after = await client.get(decided.headers["location"])
    assert "Approved." in after.text
    assert "No posts are waiting." in after.text
    again = await client.post(
        f"/lists/{LIST}/held/{held}/approve", data={"csrf_token": csrf_of(queue)}
    )
    assert again.headers["location"].endswith("done=already-decided")


async def test_a_moderator_rejects_with_a_reason(client: httpx.AsyncClient, db: Database) -> None:
    held = await hold_post(db, LIST, "Spam", "Buy things")
    await sign_in(client, db, BOB)
    queue = await client.get(f"/lists/{LIST}/held")
    decided = await client.post(
        f"/lists/{LIST}/held/{held}/reject",
        data={"csrf_token": csrf_of(queue), "reason": "Off topic for this list."},
    )
    assert decided.headers["location"].endswith("done=rejected")
    row = await inbound(db, held)
    assert row.state == InboundState.REJECTED.value
    assert row.moderation_reason == "Off topic for this list."
    assert row.moderated_by == BOB


async def test_decisions_need_the_form_token(client: httpx.AsyncClient, db: Database) -> None:
    held = await hold_post(db, LIST, "Spam", "Buy things")
    await sign_in(client, db, BOB)
    for data in ({}, {"csrf_token": "forged"}, {"csrf_token": ""}):
        refused = await client.post(f"/lists/{LIST}/held/{held}/approve", data=data)
        assert refused.status_code == 403
    assert (await inbound(db, held)).state == InboundState.HELD.value


async def test_members_and_other_lists_moderators_cannot_see_or_decide(
    app: FastAPI, db: Database
) -> None:
    held = await hold_post(db, LIST, "Spam", "Buy things")
    async with db.transaction() as session:
        other = await registry.get_list(session, OTHER)
        await registry.add_member(session, other, registry.member_details(BOB, role="moderator"))
    async with client_for(app) as alice:
        await sign_in(alice, db, ALICE)
        queue = await alice.get(f"/lists/{LIST}/held")
        assert queue.status_code == 403
        assert STRANGER not in queue.text
        home = await alice.get("/")
        refused = await alice.post(
            f"/lists/{LIST}/held/{held}/approve", data={"csrf_token": csrf_of(home)}
        )
        assert refused.status_code == 403
    async with client_for(app) as dave:
        await sign_in(dave, db, DAVE)
        assert (await dave.get(f"/lists/{LIST}/held")).status_code == 404
    async with client_for(app) as bob:
        await sign_in(bob, db, BOB)
        home = await bob.get("/")
        # Bob moderates OTHER too, but the post was sent to LIST: not found there.
        wrong_list = await bob.post(
            f"/lists/{OTHER}/held/{held}/approve", data={"csrf_token": csrf_of(home)}
        )
        assert wrong_list.status_code == 404
    assert (await inbound(db, held)).state == InboundState.HELD.value
