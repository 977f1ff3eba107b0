"""Every SMTP reply listserv gives, as a named constant (RFC 5321 §4.2, RFC 3463).

The server sends these and the tests assert them, so the wording users see is
written down once. Enhanced status codes follow RFC 3463 and are advertised
with ENHANCEDSTATUSCODES (RFC 2034). No reply ever names another member.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Reply:
    code: int
    enhanced: str
    text: str

    def __str__(self) -> str:
        return f"{self.code} {self.enhanced} {self.text}"

    def with_text(self, text: str) -> str:
        return f"{self.code} {self.enhanced} {text}"


OK = Reply(250, "2.0.0", "OK")
SENDER_OK = Reply(250, "2.1.0", "Sender OK")
RECIPIENT_OK = Reply(250, "2.1.5", "Recipient OK")
ACCEPTED = Reply(250, "2.6.0", "Message accepted for delivery")
UNKNOWN_LIST = Reply(550, "5.1.1", "No such list here")
TOO_BIG = Reply(552, "5.3.4", "Message too big for this list")
NOT_A_MEMBER = Reply(
    550,
    "5.7.1",
    "Only members may post to this list, and your address is not a member's."
    " Post from the address you subscribed with, or ask the list owner.",
)
RED_REFUSED = Reply(
    550,
    "5.7.1",
    "This list does not accept TLP:RED posts; share it with the people concerned directly.",
)
NO_FROM = Reply(550, "5.6.0", "The message has no valid From: address")
TOO_MANY_LISTS = Reply(452, "4.5.3", "Too many recipients in one message; send again for the rest")
SHUTTING_DOWN = Reply(421, "4.3.2", "Service shutting down, try again later")
TEMPORARY_FAILURE = Reply(451, "4.3.0", "Temporary local problem, please try again later")
BAD_ADDRESS = Reply(553, "5.1.3", "That is not a valid e-mail address")

# aiosmtpd answers some problems itself before our hooks run; these map its
# wording to ours so every reply carries an enhanced status code.
AIOSMTPD_REWRITES: dict[str, Reply] = {
    "552 Error: Too much mail data": TOO_BIG,
    "552 Error: message size exceeds fixed maximum message size": TOO_BIG,
    "500 Line too long (see RFC5321 4.5.3.1.6)": Reply(
        500, "5.5.2", "Line too long (RFC 5321 §4.5.3.1.6 allows 1000 octets)"
    ),
}
