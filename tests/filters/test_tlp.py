"""TLP labels as senders write them, resolution, subject tags, banners (filters/tlp.py)."""

from __future__ import annotations

import re
import textwrap
from email import message_from_bytes, policy
from email.message import EmailMessage
from pathlib import Path

import lxml.html
import pytest

from filters.tlp import (
    Tlp,
    banner_html,
    banner_text,
    label_of_message,
    labels_in_text,
    parse_label,
    resolve,
    stamp_subject,
    strip_banners,
    subject_without_labels,
)

DATA = Path(__file__).parent.parent / "data" / "tlp"
RED, AMBER_STRICT, AMBER, GREEN, CLEAR = (
    Tlp.RED,
    Tlp.AMBER_STRICT,
    Tlp.AMBER,
    Tlp.GREEN,
    Tlp.CLEAR,
)


def _message(subject: str | None = None, body: str = "Hello.\n", **headers: str) -> EmailMessage:
    message = EmailMessage()
    message["From"] = "someone@operator-a.example"
    if subject is not None:
        message["Subject"] = subject
    for name, value in headers.items():
        message[name.replace("_", "-")] = value
    message.set_content(body)
    return message


def _raw(text: str) -> EmailMessage:
    return message_from_bytes(text.encode("utf-8"), policy=policy.default)  # type: ignore[return-value]


# --- The enum --------------------------------------------------------------------------------


def test_labels_are_ordered_by_strictness_and_print_canonically() -> None:
    assert sorted(Tlp) == [CLEAR, GREEN, AMBER, AMBER_STRICT, RED]
    assert [label.label for label in Tlp] == [
        "TLP:CLEAR",
        "TLP:GREEN",
        "TLP:AMBER",
        "TLP:AMBER+STRICT",
        "TLP:RED",
    ]
    assert AMBER_STRICT.header_value == "AMBER+STRICT"
    assert CLEAR.header_value == "CLEAR"


# --- Reading labels: one table of real-world forms -------------------------------------------

# (where the label is written, what the sender wrote, the label we must read)
# where: "subject" = Subject header set as text; "raw" = a whole raw message (RFC 2047
# as it comes off the wire); "tlp" / "x-tlp" = that header; "body" = text/plain body;
# "html" = text/html-only body.
LABEL_FORMS: list[tuple[str, str, Tlp | None]] = [
    ("subject", "[TLP:RED] Outage in the core network", RED),
    ("subject", "[tlp:red] lower case from a phone", RED),
    ("subject", "TLP:AMBER Phishing wave against invoices", AMBER),
    ("subject", "TLP: AMBER phishing, 1.0-era spacing", AMBER),
    ("subject", "TLP AMBER phishing without a colon", AMBER),
    ("subject", "TLP-AMBER phishing with a hyphen", AMBER),
    ("subject", "TLP_GREEN weekly report (MISP file-name style)", GREEN),
    ("subject", "(TLP:GREEN) weekly report", GREEN),
    ("subject", "{TLP:CLEAR} public advisory", CLEAR),
    ("subject", "<TLP:RED> escalation", RED),
    ("subject", "TLP : RED spaced colon", RED),
    ("subject", "TLP:\u00a0GREEN after a no-break space", GREEN),
    ("subject", "TLP/AMBER slash form", AMBER),
    ("subject", "**TLP:RED** markdown bold", RED),
    ("subject", "tlp:clear release notes", CLEAR),
    ("subject", "TLP:AMBER+STRICT BGP hijack details", AMBER_STRICT),
    ("subject", "[TLP: AMBER + STRICT] spaced plus", AMBER_STRICT),
    ("subject", "TLP:AMBER +STRICT half spaced", AMBER_STRICT),
    ("subject", "tlp:amber+strict lower case", AMBER_STRICT),
    ("subject", "TLP:AMBER STRICT without the plus", AMBER_STRICT),
    ("subject", "[TLP:AMBER+STRICT] summary, earlier thread was TLP:AMBER", AMBER_STRICT),
    ("subject", "TLP:AMBER then TLP:AMBER+STRICT", AMBER_STRICT),
    ("subject", "TLP:WHITE advisory (TLP 1.0)", CLEAR),
    ("subject", "[tlp: white] old template", CLEAR),
    ("subject", "TLP:GREEN summary of a TLP:RED briefing", RED),
    ("subject", "Re: AW: [TLP:AMBER] Scans on 8443", AMBER),
    ("subject", "Re: Schwachstelle im Übertragungsnetz [TLP:AMBER]", AMBER),
    ("subject", "【TLP:RED】障害報告", RED),
    ("subject", "本件はTLP:AMBERです", AMBER),
    ("subject", "TLPRED is not a label", None),
    ("subject", "redtlp neither", None),
    ("subject", "XTLP:RED neither", None),
    ("subject", "Amber alert issued for the region", None),
    ("subject", "Red Team exercise results", None),
    ("subject", "Green light for the new SOC", None),
    ("subject", "TLP", None),
    ("subject", "Question about TLP labels", None),
    ("subject", "TLP 2.0 migration plan", None),
    ("subject", "TLP:REDACTED logs attached", None),
    ("subject", "TLP:AMBERISH is not a colour", None),
    ("subject", "TLP:AMBER STRICTLY need-to-know", AMBER),
    ("subject", "Übung: TLP:GRÜN (labels are never translated)", None),
    ("subject", "", None),
    ("raw", "Subject: =?UTF-8?B?W1RMUDpSRURdIMOcYmVyZmFsbA==?=\n\nx\n", RED),
    ("raw", "Subject: =?ISO-8859-1?Q?=5Btlp=3Aamber=5D_St=F6rung?=\n\nx\n", AMBER),
    ("raw", "Subject: =?UTF-8?Q?=5BTLP=3AAM?= =?UTF-8?Q?BER=5D_split_word?=\n\nx\n", AMBER),
    ("raw", "Subject: Re: Ausfall\n =?utf-8?q?=28TLP=3AGREEN=29?=\n\nx\n", GREEN),
    ("raw", "Subject: Plain\nTLP: amber\nTLP: RED\n\nx\n", RED),
    ("tlp", "RED", RED),
    ("tlp", "amber+strict", AMBER_STRICT),
    ("tlp", "TLP:GREEN", GREEN),
    ("tlp", "white", CLEAR),
    ("tlp", "AMBER (need to know)", AMBER),
    ("tlp", "nonsense", None),
    ("x-tlp", "AMBER", AMBER),
    ("body", "TLP:AMBER\n\nWe see scans on 8443.\n", AMBER),
    ("body", "\n\n   ** TLP: RED **\n\nDetails follow.\n", RED),
    ("body", "Hi all,\n\nthis is TLP:GREEN, share within the community.\n", GREEN),
    ("body", "one\ntwo\nthree\nfour\nTLP:AMBER on the fifth line\n", AMBER),
    ("body", "one\ntwo\nthree\nfour\nfive\nTLP:RED on the sixth line\n", None),
    ("body", "Thanks!\n\nOn Tue, someone wrote:\n> TLP:RED -- For the eyes\n", RED),
    ("body", "Our red team found an amber-rated issue.\n", None),
    ("html", "<html><body><p><b>TLP:AMBER</b></p><p>Details.</p></body></html>", AMBER),
    ("html", "<p>TLP:&nbsp;RED</p><p>x</p>", RED),
    ("html", "<html><head><title>TLP:RED</title></head><body><p>x</p></body></html>", None),
]


def _message_for(where: str, value: str) -> EmailMessage:
    if where == "subject":
        return _message(value)
    if where == "raw":
        return _raw(value)
    if where in {"tlp", "x-tlp"}:
        return _message("Plain subject", **{where.upper(): value})
    if where == "body":
        return _message("Plain subject", value)
    assert where == "html"
    message = _message("Plain subject")
    message.set_content(value, subtype="html")
    return message


@pytest.mark.parametrize(("where", "value", "expected"), LABEL_FORMS)
def test_label_of_message_reads_real_world_forms(
    where: str, value: str, expected: Tlp | None
) -> None:
    assert label_of_message(_message_for(where, value)) == expected


def test_label_table_is_large_enough() -> None:
    assert len(LABEL_FORMS) >= 40


@pytest.mark.parametrize(
    ("value", "expected"), [(v, e) for w, v, e in LABEL_FORMS if w == "subject"]
)
def test_labels_in_text_agrees_with_the_subject_table(value: str, expected: Tlp | None) -> None:
    assert max(labels_in_text(value), default=None) == expected


def test_labels_in_text_returns_every_label_in_order() -> None:
    assert labels_in_text("TLP:GREEN, then TLP:RED, then tlp:green") == [GREEN, RED, GREEN]
    assert labels_in_text("a line\nTLP:AMBER\nSTRICT") == [AMBER]  # never across lines


@pytest.mark.parametrize(
    ("typed", "expected"),
    [
        ("amber", AMBER),
        ("AMBER+STRICT", AMBER_STRICT),
        ("TLP:AMBER+STRICT", AMBER_STRICT),
        ("amber + strict", AMBER_STRICT),
        ("tlp: white", CLEAR),
        ("RED", RED),
        (" [TLP:green] ", GREEN),
        ("TLP-CLEAR", CLEAR),
        ("TLP", None),
        ("", None),
        ("amber alert", None),
        ("reddish", None),
        ("TLP:PURPLE", None),
    ],
)
def test_parse_label_reads_one_label_as_typed(typed: str, expected: Tlp | None) -> None:
    assert parse_label(typed) == expected


def test_label_of_message_takes_the_strictest_of_subject_header_and_body() -> None:
    message = _message("[TLP:GREEN] x", "TLP:RED\n\nbody\n", TLP="AMBER")
    assert label_of_message(message) == RED


def test_label_of_message_reads_plain_before_html_and_ignores_attachments() -> None:
    message = _message("no label", "Just text.\n")
    message.add_alternative("<p>TLP:RED</p>", subtype="html")  # plain part wins
    message.add_attachment(b"TLP:RED\n", maintype="text", subtype="plain", filename="iocs.txt")
    assert label_of_message(message) is None


def test_label_of_message_reads_inside_a_signed_part() -> None:
    raw = (DATA / "pgp_signed.eml").read_bytes()
    assert label_of_message(message_from_bytes(raw, policy=policy.default)) == AMBER  # type: ignore[arg-type]


def test_label_of_message_reads_encoded_fixtures() -> None:
    def read(name: str) -> EmailMessage:
        return message_from_bytes((DATA / name).read_bytes(), policy=policy.default)  # type: ignore[return-value]

    assert label_of_message(read("iso2022jp_7bit.eml")) == AMBER  # RFC 2047 ISO-2022-JP
    assert label_of_message(read("thunderbird_latin1_qp.eml")) == GREEN  # ISO-8859-1 Q
    assert label_of_message(read("outlook_cp1252_base64.eml")) == AMBER_STRICT


def test_label_of_message_under_the_compat32_policy() -> None:
    raw = (DATA / "thunderbird_latin1_qp.eml").read_bytes()
    message = message_from_bytes(raw, _class=EmailMessage)  # compat32: raw encoded words
    assert label_of_message(message) == GREEN


# --- Resolution ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("floor", "sender", "parent", "expected"),
    [
        (GREEN, None, None, GREEN),
        (GREEN, RED, None, RED),  # a sender can raise
        (AMBER, CLEAR, None, AMBER),  # ... never lower
        (AMBER, GREEN, None, AMBER),
        (GREEN, None, AMBER_STRICT, AMBER_STRICT),  # a reply inherits its parent
        (GREEN, CLEAR, AMBER, AMBER),
        (CLEAR, AMBER, AMBER_STRICT, AMBER_STRICT),
        (RED, CLEAR, CLEAR, RED),
    ],
)
def test_resolve_takes_the_strictest(
    floor: Tlp, sender: Tlp | None, parent: Tlp | None, expected: Tlp
) -> None:
    assert resolve(floor, sender, parent) is expected


# --- Subjects --------------------------------------------------------------------------------

# (subject as received, list prefix, subject stamped TLP:AMBER)
SUBJECTS: list[tuple[str, str | None, str]] = [
    ("Scans on 8443", None, "[TLP:AMBER] Scans on 8443"),
    ("Re: Scans on 8443", None, "Re: [TLP:AMBER] Scans on 8443"),
    ("Re: [TLP:AMBER] Re: [TLP:AMBER] x", None, "Re: [TLP:AMBER] x"),
    ("Re: Re: RE: x", None, "Re: [TLP:AMBER] x"),
    ("RE: AW: WG: x", None, "RE: AW: WG: [TLP:AMBER] x"),
    ("Fwd: Re: [tlp:green] x", None, "Fwd: Re: [TLP:AMBER] x"),
    (
        "Fw: TR: SV: VS: RV: R: Antw: Odp: x",
        None,
        "Fw: TR: SV: VS: RV: R: Antw: Odp: [TLP:AMBER] x",
    ),
    ("Re[2]: x", None, "Re[2]: [TLP:AMBER] x"),
    ("Re : x", None, "Re : [TLP:AMBER] x"),
    ("[tlp:green] x", None, "[TLP:AMBER] x"),
    ("TLP:RED - x", None, "[TLP:AMBER] x"),
    ("TLP: AMBER + STRICT: Ausfall", None, "[TLP:AMBER] Ausfall"),
    ("x (TLP:GREEN)", None, "[TLP:AMBER] x"),
    ("Report - TLP:GREEN", None, "[TLP:AMBER] Report"),
    ("Phishing TLP:RED indicators", None, "[TLP:AMBER] Phishing indicators"),
    ("Alert: TLP:RED phishing", None, "[TLP:AMBER] Alert: phishing"),
    ("Real: not a reply prefix", None, "[TLP:AMBER] Real: not a reply prefix"),
    ("Red Team exercise", None, "[TLP:AMBER] Red Team exercise"),
    ("", None, "[TLP:AMBER]"),
    ("Re:", None, "Re: [TLP:AMBER]"),
    ("Re: Störung im Übertragungsnetz", None, "Re: [TLP:AMBER] Störung im Übertragungsnetz"),
    ("回复：【TLP:RED】攻撃について", None, "回复： [TLP:AMBER] 攻撃について"),
    ("Re: folded\r\n subject", None, "Re: [TLP:AMBER] folded subject"),
    ("x", "[ciso]", "[ciso] [TLP:AMBER] x"),
    ("Re: x", "[ciso]", "Re: [ciso] [TLP:AMBER] x"),
    ("Re: [ciso] [TLP:AMBER] x", "[ciso]", "Re: [ciso] [TLP:AMBER] x"),
    ("[ciso] Re: x", "[ciso]", "Re: [ciso] [TLP:AMBER] x"),
    ("Re: [CISO] [TLP:RED] Re: [ciso] x", "[ciso]", "Re: [ciso] [TLP:AMBER] x"),
    ("AW: [TLP:GREEN] [ciso] x", "[ciso]", "AW: [ciso] [TLP:AMBER] x"),
    ("[other] x", "[ciso]", "[ciso] [TLP:AMBER] [other] x"),
    ("", "[ciso]", "[ciso] [TLP:AMBER]"),
]


@pytest.mark.parametrize(("subject", "prefix", "expected"), SUBJECTS)
def test_stamp_subject(subject: str, prefix: str | None, expected: str) -> None:
    stamped = stamp_subject(subject, AMBER, list_prefix=prefix)
    assert stamped == expected
    assert stamp_subject(stamped, AMBER, list_prefix=prefix) == stamped  # replies: no doubling
    assert labels_in_text(stamped) == [AMBER]  # exactly one tag, canonical


def test_stamp_subject_replaces_the_tag_with_a_stricter_one() -> None:
    assert stamp_subject("Re: [TLP:AMBER] x", AMBER_STRICT) == "Re: [TLP:AMBER+STRICT] x"
    assert stamp_subject("Re: [TLP:RED] x", RED, list_prefix="[ciso]") == "Re: [ciso] [TLP:RED] x"


@pytest.mark.parametrize(
    ("subject", "expected"),
    [
        ("[TLP:AMBER] x", "x"),
        ("Re: [ciso] [TLP:AMBER] x", "Re: [ciso] x"),
        ("Re: [TLP:AMBER] Re: [TLP:AMBER] x", "Re: Re: x"),
        ("TLP:AMBER+STRICT - Phishing campaign", "Phishing campaign"),
        ("Phishing campaign (TLP:GREEN)", "Phishing campaign"),
        ("Report - TLP:GREEN - phishing", "Report - phishing"),
        ("【TLP:RED】障害報告", "障害報告"),
        ("Red Team and amber alert", "Red Team and amber alert"),
        ("TLPRED stays", "TLPRED stays"),
        ("", ""),
    ],
)
def test_subject_without_labels(subject: str, expected: str) -> None:
    assert subject_without_labels(subject) == expected


# --- Banners ---------------------------------------------------------------------------------

FIRST_WORDS = {
    RED: "For the eyes and ears of individual recipients only, no further disclosure.",
    AMBER_STRICT: "within their own organization, not to its clients.",
    AMBER: "on a need-to-know basis within their organization and its clients.",
    GREEN: "recipients can spread this within their community",
    CLEAR: "Recipients can spread this to the world, there is no limit on disclosure.",
}
COLOURS = {RED: "#FF2B2B", AMBER_STRICT: "#FFC000", AMBER: "#FFC000", GREEN: "#33FF00"}


@pytest.mark.parametrize("label", list(Tlp))
def test_banner_text_says_the_label_and_what_it_permits(label: Tlp) -> None:
    text = banner_text(label)
    assert text.startswith(label.label + " -- ")
    assert FIRST_WORDS[label] in " ".join(text.split())
    assert text.isascii()
    assert all(len(line) <= 72 for line in text.splitlines())
    assert labels_in_text(text) == [label]  # it names no other label


@pytest.mark.parametrize("label", list(Tlp))
def test_banner_html_uses_first_colours_and_says_the_same(label: Tlp) -> None:
    markup = banner_html(label)
    element = lxml.html.fragment_fromstring(markup)
    assert " ".join(element.text_content().split()) == " ".join(banner_text(label).split())
    assert re.search(r"background-color:#000000", markup)
    colour = COLOURS.get(label, "#FFFFFF")
    assert f"color:{colour}" in markup
    assert markup.isascii()


def test_strip_banners_removes_a_plain_banner() -> None:
    text = banner_text(AMBER) + "\n\nWe see scans on 8443.\n"
    assert strip_banners(text) == "We see scans on 8443.\n"


def test_strip_banners_removes_quoted_banners_once_and_twice() -> None:
    reply = (
        "Same here.\n\nOn Tue, 3 Sep 2024, Participant A wrote:\n"
        + textwrap.indent(banner_text(RED) + "\n\nScans on 8443.\n", "> ", lambda _line: True)
        + "\n"
        + textwrap.indent(banner_text(GREEN) + "\n\nEarlier.\n", "> > ", lambda _line: True)
        + ">> "
        + banner_text(CLEAR).replace("\n", "\n>> ")
        + "\n>>\n>> Oldest.\n"
    )
    assert strip_banners(reply) == (
        "Same here.\n\nOn Tue, 3 Sep 2024, Participant A wrote:\n"
        "> Scans on 8443.\n\n> > Earlier.\n>> Oldest.\n"
    )


def test_strip_banners_removes_rewrapped_and_crlf_banners() -> None:
    rewrapped = textwrap.fill(banner_text(AMBER_STRICT), width=30)
    quoted = "> " + rewrapped.replace("\n", "\r\n> ") + "\r\n>\r\n> body\r\n"
    assert strip_banners(quoted) == "> body\r\n"
    hyphen_split = banner_text(AMBER).replace("need-to-know", "need-to-\nknow")
    assert strip_banners(hyphen_split + "\n\nbody") == "body"


def test_strip_banners_removes_the_html_banner_as_rendered_text() -> None:
    rendered = lxml.html.fromstring(
        "<div>" + banner_html(AMBER) + "<p>Scans on 8443.</p></div>"
    ).text_content()
    assert strip_banners(rendered) == "Scans on 8443."


def test_strip_banners_keeps_a_banner_sharing_a_line_with_other_text() -> None:
    text = "Forwarded: " + " ".join(banner_text(GREEN).split()) + " Thanks."
    assert strip_banners(text) == "Forwarded:  Thanks."


@pytest.mark.parametrize(
    "text",
    [
        "",
        "Plain text without anything of ours.\n> quoted line\n",
        "This is TLP:AMBER, please treat it so.\nTLP:AMBER -- our own words here.\n",
        "TLP:RED -- For the eyes and ears of individual recipients only.\n",  # partial
        "> TLP:AMBER -- Limited disclosure, recipients can only spread this\n> elsewhere.\n",
    ],
)
def test_strip_banners_leaves_other_text_untouched(text: str) -> None:
    assert strip_banners(text) == text
