"""Issue 5 units: the posting policy table and the moderation helpers."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta
from email.message import EmailMessage
from pathlib import Path

import pytest
from sqlalchemy import select

from filters.list_headers import ListIdentity
from filters.tlp import Tlp
from listserv import registry
from listserv.db import Database
from listserv.directory import ListView, MemberView
from listserv.models import (
    InboundMessage,
    MailingList,
    NonMemberPolicy,
    OutboundMessage,
    RedPolicy,
    Role,
    utcnow,
)
from listserv.moderation import expire_and_purge, first_own_line
from listserv.notices import may_notify
from listserv.posting_policy import Action, Post, attachment_types, decide

LIST = ListView(
    id=1,
    address="ciso@lists.example",
    name="CISO",
    floor=Tlp.AMBER,
    nonmember_policy=NonMemberPolicy.HOLD,
    red_policy=RedPolicy.ALLOW,
    subject_prefix=None,
    archive_date_rounding="hour",
)
IDENTITY = ListIdentity(
    "ciso@lists.example",
    "CISO",
    "ciso.lists.example",
    "ciso-request@lists.example",
    "ciso-owner@lists.example",
)
ALICE = MemberView(1, "alice@operator-a.example", "Alice", Role.MEMBER, True, posts_accepted=3)


def message(*, attachment: tuple[bytes, str, str] | None = None, **headers: str) -> EmailMessage:
    built = EmailMessage()
    built["From"] = ALICE.email
    built["Subject"] = "x"
    for name, value in headers.items():
        built[name.replace("_", "-")] = value
    built.set_content("hello\n")
    if attachment:
        data, maintype, subtype = attachment
        built.add_attachment(data, maintype=maintype, subtype=subtype, filename="f")
    return built


def a_post(mailing_list: ListView = LIST, **overrides: object) -> Post:
    values: dict[str, object] = {
        "mailing_list": mailing_list,
        "identity": IDENTITY,
        "message": message(),
        "envelope_sender": ALICE.email,
        "author": ALICE,
        "label": Tlp.AMBER,
    }
    values.update(overrides)
    return Post(**values)  # type: ignore[arg-type]


def codes(post: Post) -> tuple[Action, str]:
    decision = decide(post)
    return decision.action, decision.codes


def test_a_members_plain_post_is_accepted() -> None:
    assert codes(a_post()) == (Action.ACCEPT, "ok")


def test_every_reason_is_collected_and_the_most_severe_wins() -> None:
    big_list = _with(LIST, soft_size_limit=10, first_post_moderated=True)
    newcomer = _member(posts_accepted=0, moderated=True)
    assert codes(a_post(big_list, author=newcomer, size=11)) == (
        Action.HOLD,
        "moderated-member first-post too-big",
    )
    looped = a_post(big_list, author=None, message=message(X_Loop=LIST.address), size=11)
    assert codes(looped)[0] is Action.DISCARD


def test_non_member_policies() -> None:
    for policy, action in (
        (NonMemberPolicy.HOLD, Action.HOLD),
        (NonMemberPolicy.REJECT, Action.REJECT),
        (NonMemberPolicy.DISCARD, Action.DISCARD),
    ):
        assert codes(a_post(_with(LIST, nonmember_policy=policy), author=None)) == (
            action,
            "nonmember",
        )


def test_red_on_a_list_that_refuses_it_is_rejected() -> None:
    refusing = _with(LIST, red_policy=RedPolicy.REFUSE)
    assert codes(a_post(refusing, label=Tlp.RED)) == (Action.REJECT, "red-refused")
    assert codes(a_post(LIST, label=Tlp.RED)) == (Action.ACCEPT, "ok")


def test_attachment_types_outside_the_allowed_list_are_held() -> None:
    pdf_only = _with(LIST, allowed_attachment_types=("application/pdf", "image/*"))
    pdf = message(attachment=(b"%PDF-1.7", "application", "pdf"))
    png = message(attachment=(b"\x89PNG", "image", "png"))
    exe = message(attachment=(b"MZ", "application", "x-msdownload"))
    assert attachment_types(exe) == ("application/x-msdownload",)
    for sample, expected in ((pdf, Action.ACCEPT), (png, Action.ACCEPT), (exe, Action.HOLD)):
        post = a_post(pdf_only, message=sample, attachment_types=attachment_types(sample))
        assert codes(post)[0] is expected
    assert codes(a_post(LIST, attachment_types=attachment_types(exe))) == (Action.ACCEPT, "ok")


def test_the_authentication_hook_holds_only_a_failed_check() -> None:
    requiring = _with(LIST, require_authentication=True)
    assert codes(a_post(requiring, authenticated=None)) == (Action.ACCEPT, "ok")
    assert codes(a_post(requiring, authenticated=True)) == (Action.ACCEPT, "ok")
    assert codes(a_post(requiring, authenticated=False)) == (Action.HOLD, "unauthenticated")


def test_an_approved_post_skips_hold_reasons_only() -> None:
    assert codes(a_post(author=None, approved=True)) == (Action.ACCEPT, "ok")
    refusing = _with(LIST, red_policy=RedPolicy.REFUSE)
    assert codes(a_post(refusing, label=Tlp.RED, approved=True))[0] is Action.REJECT


@pytest.mark.parametrize(
    ("address", "allowed"),
    [
        ("alice@operator-a.example", True),
        ("", False),
        ("MAILER-DAEMON@mx.example", False),
        ("noreply@vendor.example", False),
        ("other-list-bounces@lists.example", False),
        ("team-request@lists.example", False),
    ],
)
def test_notices_never_go_to_robots_lists_or_null_senders(address: str, allowed: bool) -> None:
    assert may_notify(address) is allowed


def test_the_reason_is_the_first_line_the_moderator_wrote() -> None:
    reply = EmailMessage()
    reply.set_content(
        "\n\nOn Tue, 3 Sep 2024, listserv wrote:\n> Held because: ...\n"
        "Please use the CERT channel.\nSecond line.\n-- \nBob\n"
    )
    assert first_own_line(reply) == "Please use the CERT channel."
    empty = EmailMessage()
    empty.set_content("> only quoted\n")
    assert first_own_line(empty) == ""


async def test_undecided_posts_expire_and_old_bodies_are_purged(tmp_path: Path) -> None:
    db = Database(f"sqlite:///{tmp_path / 'db.sqlite'}")
    await db.migrate()
    now = utcnow()
    async with db.transaction() as session:
        created = await registry.create_list(session, "ciso@lists.example")
        created.token_expiry_days = 14
        created.held_retention_days = 30
        session.add(created)
        assert created.id is not None
        for held_days_ago, state in ((15, "held"), (2, "held"), (31, "rejected")):
            session.add(
                InboundMessage(
                    list_id=created.id,
                    mail_from="olga@vendor.example",
                    raw=b"Subject: s\n\nbody\n",
                    size=16,
                    state=state,
                    held_at=now - timedelta(days=held_days_ago),
                    decided_at=(now - timedelta(days=held_days_ago)) if state != "held" else None,
                )
            )
    expired, purged = await expire_and_purge(db, now)
    assert (expired, purged) == (1, 1)
    async with db.session() as session:
        rows = (await session.scalars(select(InboundMessage).order_by(InboundMessage.id))).all()
        notices = (await session.scalars(select(OutboundMessage))).all()
        list_row = (await session.scalars(select(MailingList))).one()
    assert [r.state for r in rows] == ["expired", "held", "rejected"]
    assert rows[2].raw is None
    assert rows[2].bytes_deleted_at is not None
    assert rows[0].raw is not None  # expired bodies wait out their own retention
    assert len(notices) == 1
    assert list_row.token_expiry_days == 14
    # A month later the other post has expired too, and the first one's body is gone.
    assert await expire_and_purge(db, now + timedelta(days=31)) == (1, 1)
    await db.dispose()


def _with(view: ListView, **changes: object) -> ListView:
    return replace(view, **changes)  # type: ignore[arg-type]


def _member(**changes: object) -> MemberView:
    return replace(ALICE, **changes)  # type: ignore[arg-type]
