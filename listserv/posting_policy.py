"""The posting policy: one ordered table of checks, read top to bottom.

Each check looks at a post and returns a Reason or None. Every check runs,
so a held post records all its reasons at once; the outcome is the most
severe action among them:

    discard  >  reject  >  hold  >  accept

Discard comes first because a loop or an auto-reply must never cause a
notice (RFC 3834 §2), even when it would also be rejected. A post a
moderator approved skips the hold reasons, and only those.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from email.message import EmailMessage, Message
from enum import IntEnum

from filters.auto_reply import is_auto_reply
from filters.list_headers import ListIdentity, is_from_this_list
from filters.tlp import Tlp
from listserv.directory import ListView, MemberView
from listserv.models import NonMemberPolicy, RedPolicy


class Action(IntEnum):
    ACCEPT = 0
    HOLD = 1
    REJECT = 2
    DISCARD = 3


@dataclass(frozen=True, slots=True)
class Reason:
    code: str  # stable, for logs and tests: "nonmember", "loop", …
    action: Action
    explanation: str  # one sentence for the poster or the moderator


@dataclass(frozen=True, slots=True)
class Post:
    mailing_list: ListView
    identity: ListIdentity
    message: Message  # the header section is all the checks read
    envelope_sender: str
    author: MemberView | None  # the member in From:, if any
    label: Tlp  # resolved: floor, sender's tag, parent
    size: int = 0
    attachment_types: tuple[str, ...] = ()
    # DKIM/DMARC result for the author's domain: None until a check is configured.
    authenticated: bool | None = None
    approved: bool = False  # a moderator approved it: hold reasons no longer apply


@dataclass(frozen=True, slots=True)
class Decision:
    action: Action
    reasons: tuple[Reason, ...]

    @property
    def codes(self) -> str:
        return " ".join(reason.code for reason in self.reasons) or "ok"


Check = Callable[[Post], Reason | None]


def loop(post: Post) -> Reason | None:
    if is_from_this_list(post.message, post.identity):
        return Reason("loop", Action.DISCARD, "The message already went through this list.")
    return None


def auto_reply(post: Post) -> Reason | None:
    if not post.envelope_sender or is_auto_reply(post.message):
        return Reason(
            "auto-reply", Action.DISCARD, "Automatic replies and bounces are not distributed."
        )
    return None


def nonmember(post: Post) -> Reason | None:
    if post.author is not None:
        return None
    policy = post.mailing_list.nonmember_policy
    action = {
        NonMemberPolicy.HOLD: Action.HOLD,
        NonMemberPolicy.REJECT: Action.REJECT,
        NonMemberPolicy.DISCARD: Action.DISCARD,
    }[policy]
    return Reason("nonmember", action, "The sender is not a member of the list.")


def red_refused(post: Post) -> Reason | None:
    if post.label is Tlp.RED and post.mailing_list.red_policy is RedPolicy.REFUSE:
        return Reason("red-refused", Action.REJECT, "This list does not accept TLP:RED posts.")
    return None


def moderated_member(post: Post) -> Reason | None:
    if post.author is not None and post.author.moderated:
        return Reason("moderated-member", Action.HOLD, "The sender's posts are moderated.")
    return None


def first_post(post: Post) -> Reason | None:
    if (
        post.mailing_list.first_post_moderated
        and post.author is not None
        and post.author.posts_accepted == 0
    ):
        return Reason("first-post", Action.HOLD, "It is the sender's first post to the list.")
    return None


def too_big(post: Post) -> Reason | None:
    limit = post.mailing_list.soft_size_limit
    if limit is not None and post.size > limit:
        return Reason("too-big", Action.HOLD, f"It is larger than the list's {limit}-byte limit.")
    return None


def attachment_type(post: Post) -> Reason | None:
    allowed = post.mailing_list.allowed_attachment_types
    if allowed is None:
        return None
    for content_type in post.attachment_types:
        major = content_type.split("/", 1)[0]
        if content_type not in allowed and f"{major}/*" not in allowed:
            return Reason(
                "attachment-type",
                Action.HOLD,
                f"It carries an attachment of type {content_type}, which the list does not allow.",
            )
    return None


def unauthenticated(post: Post) -> Reason | None:
    # The hook for sender authentication: holds when a configured check failed.
    if post.mailing_list.require_authentication and post.authenticated is False:
        return Reason(
            "unauthenticated",
            Action.HOLD,
            "The sender's domain did not authenticate the message (DKIM/DMARC).",
        )
    return None


CHECKS: tuple[Check, ...] = (
    loop,
    auto_reply,
    nonmember,
    red_refused,
    moderated_member,
    first_post,
    too_big,
    attachment_type,
    unauthenticated,
)


def decide(post: Post, checks: tuple[Check, ...] = CHECKS) -> Decision:
    reasons = tuple(reason for check in checks if (reason := check(post)) is not None)
    if post.approved:
        reasons = tuple(reason for reason in reasons if reason.action is not Action.HOLD)
    action = max((reason.action for reason in reasons), default=Action.ACCEPT)
    return Decision(action, reasons)


def attachment_types(message: EmailMessage) -> tuple[str, ...]:
    """Content types of the attachments: non-text leaves and parts marked attachment."""
    found: list[str] = []
    for part in message.walk():
        if part.is_multipart():
            continue
        content_type = part.get_content_type()
        disposition = part.get_content_disposition()
        if disposition == "attachment" or part.get_content_maintype() not in ("text", "message"):
            found.append(content_type)
    return tuple(dict.fromkeys(found))
