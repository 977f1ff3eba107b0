"""Everything CPU-bound about one post, as one pure function.

The pipeline decides with the database; `render_post` does the work that
needs the whole message: parse it, read its TLP label, list its attachment
types, build the archive form (unless TLP:RED) and the distribution copy. It
runs in the post worker's child process (listserv/post_worker.py), so the
server's event loop keeps answering SMTP while a post is parsed, scrubbed
and rendered on the other core, and a parser that crashes or hangs takes
only the child down.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from email import policy
from email.message import EmailMessage, Message
from email.parser import BytesParser

from filters.deattribute import ArchiveContext, ArchiveForm, parsed_archive_form_or_hold
from filters.matching import RegistryMatcher
from filters.tlp import Tlp, label_of_message, resolve
from listserv.addresses import author_addresses
from listserv.directory import ListView
from listserv.distribution import render_distribution
from listserv.dkim_signing import DkimSigner
from listserv.posting_policy import attachment_types

FIRST_LINES = 8


@dataclass(frozen=True, slots=True)
class RenderRequest:
    raw: bytes
    mailing_list: ListView
    parent_label: Tlp | None
    base_url: str
    # The archive context without its label (the child resolves the label);
    # None: make no archive form (TLP:RED never gets one either way).
    archive: ArchiveContext | None
    archived_at: str | None  # the post's archive URL, used if its form is stored
    signer: DkimSigner | None = None


@dataclass(frozen=True, slots=True)
class Summary:
    """What moderators see of a post: its sender, subject and first lines."""

    sender: str
    subject: str
    first_lines: str


@dataclass(frozen=True, slots=True)
class Rendering:
    label: Tlp
    attachment_types: tuple[str, ...]
    summary: Summary
    distribution: bytes
    form: ArchiveForm | None  # None: not archived (TLP:RED, or not asked for)


def parse_message(raw: bytes) -> EmailMessage:
    message = BytesParser(policy=policy.default).parsebytes(raw)
    assert isinstance(message, EmailMessage)
    return message


def summary_of(message: Message) -> Summary:
    senders = author_addresses(message)  # type: ignore[arg-type]
    sender = str(message.get("From", "") or "") or (senders[0] if senders else "(no sender)")
    subject = str(message.get("Subject", "") or "(no subject)")
    text = ""
    if isinstance(message, EmailMessage):
        try:
            body = message.get_body(("plain", "html"))
            text = str(body.get_content()) if body is not None else ""
        except (LookupError, KeyError, ValueError, AssertionError):
            text = ""
    lines = [line.rstrip() for line in text.splitlines() if line.strip()]
    return Summary(sender, subject, "\n".join(lines[:FIRST_LINES]))


def render_post(request: RenderRequest, matcher: RegistryMatcher | None) -> Rendering:
    message = parse_message(request.raw)
    mailing_list = request.mailing_list
    label = resolve(mailing_list.floor, label_of_message(message), request.parent_label)
    form = None
    if request.archive is not None and label is not Tlp.RED and matcher is not None:
        context = replace(request.archive, label=label.label)
        # The message parsed above: archive_form reads it and never changes it.
        form = parsed_archive_form_or_hold(message, matcher, context)
    stored = form is not None and form.hold_reason is None
    distribution = render_distribution(
        message,
        mailing_list,
        label,
        base_url=request.base_url,
        archived_at=request.archived_at if stored else None,
        signer=request.signer,
    )
    return Rendering(
        label=label,
        attachment_types=attachment_types(message),
        summary=summary_of(message),
        distribution=distribution,
        form=form,
    )
