"""The distribution copy: one rendering per post, whatever the number of members.

TLP stamp (subject tag, header, banner) first, then the list headers and the
DMARC-safe From, serialised once with CRLF line ends as it goes on the wire.
"""

from __future__ import annotations

from email import policy
from email.message import EmailMessage

from filters.list_headers import ListIdentity, distribution_copy
from filters.tlp import Tlp, stamp
from listserv.directory import ListView
from listserv.dkim_signing import DkimSigner

# CRLF line ends for the wire, and no refolding below RFC 5322's 998-octet
# limit: folding a long URL (Archived-At, List-*) that has no whitespace makes
# Python encode it as an RFC 2047 word, which no client reads as a URL, and
# headers from the author's client keep the form they arrived in.
WIRE = policy.SMTP.clone(max_line_length=998)


def list_identity(mailing_list: ListView, base_url: str) -> ListIdentity:
    base = base_url.rstrip("/")
    return ListIdentity(
        address=mailing_list.address,
        name=mailing_list.name,
        list_id=mailing_list.list_id,
        request_address=mailing_list.request_address,
        owner_address=mailing_list.owner_address,
        archive_url=f"{base}/lists/{mailing_list.address}/",
        unsubscribe_url=f"{base}/lists/{mailing_list.address}/leave",
    )


def render_distribution(
    message: EmailMessage,
    mailing_list: ListView,
    label: Tlp,
    *,
    base_url: str,
    archived_at: str | None,
    signer: DkimSigner | None = None,
) -> bytes:
    stamped = stamp(message, label, list_prefix=mailing_list.subject_prefix)
    copy = distribution_copy(
        stamped, list_identity(mailing_list, base_url), archived_at=archived_at
    )
    content = copy.as_bytes(policy=WIRE)
    return signer.sign(content) if signer is not None else content
