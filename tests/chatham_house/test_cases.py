"""CHATHAM_HOUSE.md §6: the 64 cases, as message-level tests of `archive_form`.

Every case goes through the `archive` fixture, which checks the global oracle
(decision 8: no registry term in any archived byte, text or subject, after
normalisation; archiving the archive form again changes nothing) and the
allowlist of decision 1. Each test then checks what its case requires, and
that the substance survives: indicators of compromise, technical content and
the dates of incidents.
"""

from __future__ import annotations

import base64
import hashlib
import io
import re
import zipfile
from datetime import UTC, datetime, timedelta, timezone
from email import policy
from email.message import EmailMessage

import pikepdf
import pytest
from PIL import Image, ImageOps

from filters import tlp
from filters.archive_ids import keyed_message_id
from filters.auto_reply import is_auto_reply
from filters.deattribute import ArchiveForm, archive_form, archive_form_or_hold
from filters.flags import FlagKind
from filters.identities import Registry
from filters.matching import RegistryMatcher
from tests.chatham_house import samples
from tests.chatham_house.conftest import Archiver, reparsed
from tests.chatham_house.registry import (
    ALICE_FINGERPRINT,
    LIST_ADDRESS,
    LIST_KEY,
    LIST_NAME,
    make_ctx,
)
from tests.chatham_house.samples import eml, post, raw_message, with_attachment
from tests.oracle import assert_nothing_leaked, texts_of_message

THREAD = {"alice": "Participant A", "jurgen": "Participant B"}


def archived_bytes(form: ArchiveForm) -> str:
    return form.message.decode("utf-8", "replace")


def flag_kinds(form: ArchiveForm) -> set[FlagKind]:
    return {flag.kind for flag in form.flags}


def everything_readable(form: ArchiveForm) -> str:
    """All text a tool could pull out of the archived bytes, for "absent" checks."""
    return "\n".join(texts_of_message(form.message))


# --- 2.1 header fields: cases 1-17 --------------------------------------------


def test_case_01_encoded_from_becomes_the_thread_pseudonym(archive: Archiver) -> None:
    message = raw_message(
        "From: =?ISO-8859-1?Q?J=FCrgen_M=FCller?= <jm@betreiber-b.example>\n"
        "To: ciso@lists.example\nSubject: Scans on TCP/7547\n"
        "Message-ID: <j1@mail.betreiber-b.example>\n\n"
        "Scans from 192.0.2.66 since 06:00 UTC.\n"
    )
    form = archive(message, make_ctx(author_key="jurgen", participants=THREAD))
    assert str(reparsed(form)["From"]) == "Participant B <participant@archive.invalid>"
    assert "192.0.2.66" in form.text


def test_case_01_non_member_poster_is_a_participant(archive: Archiver) -> None:
    message = raw_message(
        "From: Guest <guest@outsider.example>\nTo: ciso@lists.example\nSubject: Hello\n\nHi.\n"
    )
    form = archive(message, make_ctx(author_key=None, participants={}))
    assert str(reparsed(form)["From"]) == "A participant <participant@archive.invalid>"
    assert "outsider.example" not in archived_bytes(form)


def test_case_02_name_split_across_encoded_words_is_joined_then_redacted(
    archive: Archiver,
) -> None:
    message = raw_message(
        "From: " + samples.ALICE_FROM + "\nTo: ciso@lists.example\n"
        "Subject: Bericht von =?UTF-8?Q?J=C3=BCr?= =?UTF-8?Q?gen_M=C3=BCller?= zu TR-069\n\n"
        "Details follow.\n"
    )
    form = archive(message)
    assert form.subject == "Bericht von [participant] zu TR-069"


def test_case_02_character_split_across_encoded_words(archive: Archiver) -> None:
    # "ü" is C3 BC in UTF-8; here its two bytes sit in two encoded words.
    message = raw_message(
        "From: " + samples.ALICE_FROM + "\nTo: ciso@lists.example\n"
        "Subject: =?UTF-8?Q?Frage_an_J=C3?= =?UTF-8?Q?=BCrgen_M=C3=BCller?=\n\nText.\n"
    )
    assert archive(message).subject == "Frage an [participant]"


def test_case_03_sender_reply_to_return_path_resent_original_from_absent(
    archive: Archiver,
) -> None:
    message = post(
        headers=[
            ("Sender", "Alice Müller <alice@operator-a.example>"),
            ("Reply-To", "a.mueller@operator-a.example"),
            ("Return-Path", "<alice@operator-a.example>"),
            ("Resent-From", "Alice Müller <alice@operator-a.example>"),
            ("Resent-Date", "Tue, 3 Sep 2024 10:02:00 +0200"),
            ("X-Original-From", "alice@operator-a.example"),
            ("X-Envelope-From", "<alice@operator-a.example>"),
            ("Delivered-To", "alice@operator-a.example"),
        ]
    )
    form = archive(message)
    names = {name.lower() for name in reparsed(form)}
    forbidden = {"sender", "reply-to", "return-path", "resent-from", "resent-date"}
    assert not names & (forbidden | {"x-original-from", "x-envelope-from", "delivered-to"})


def test_case_04_cc_dropped_and_to_is_the_list_only(archive: Archiver) -> None:
    message = post(
        headers=[("Cc", "Bob Brown <bob@operator-b.example>, Carol White <carol@outsider.example>")]
    )
    form = archive(message)
    archived = reparsed(form)
    assert archived["Cc"] is None
    assert str(archived["To"]) == f"{LIST_NAME} <{LIST_ADDRESS}>"
    assert "carol" not in archived_bytes(form).lower()


def test_case_05_received_chain_absent(archive: Archiver) -> None:
    message = eml("outlook_exchange_online_de_reply.eml")
    form = archive(message, make_ctx(participants=THREAD))
    text = archived_bytes(form)
    assert reparsed(form)["Received"] is None
    for leak in ("ALICE-LAPTOP", "203.0.113.7", "Authenticated sender", "t-ipconnect", "40.107."):
        assert leak not in text


def test_case_06_originating_ip_antispam_report_originator_org_absent(archive: Archiver) -> None:
    message = post(
        headers=[
            ("X-Originating-IP", "[203.0.113.7]"),
            ("X-Forefront-Antispam-Report", "CIP:203.0.113.7;CTRY:DE;LANG:de;SCL:1;DIR:OUT"),
            ("X-OriginatorOrg", "operator-a.example"),
            ("X-Sender-IP", "203.0.113.7"),
            ("X-Authenticated-Sender", "alice@operator-a.example"),
            ("X-AntiAbuse", "Sender Address Domain - operator-a.example"),
        ]
    )
    text = archived_bytes(archive(message))
    for leak in ("203.0.113.7", "CTRY", "LANG:de", "Antispam", "OriginatorOrg"):
        assert leak not in text


def test_case_07_message_id_is_keyed_per_list(archive: Archiver, matcher: RegistryMatcher) -> None:
    original = "x@mail.operator-a.example"
    message = post(headers=[])
    message.replace_header("Message-ID", f"<{original}>")
    form = archive(message)
    assert form.message_id == keyed_message_id(LIST_KEY, original, "lists.example")
    assert str(reparsed(form)["Message-ID"]) == form.message_id
    assert archive(message).message_id == form.message_id  # the same post twice
    other_list = make_ctx(list_key=b"another-list-key-of-32-bytes....")
    assert archive_form(message, matcher, other_list).message_id != form.message_id
    for unkeyed in (hashlib.sha1, hashlib.sha256):
        digest = unkeyed(original.encode()).hexdigest()
        assert digest[:16] not in form.message_id
    assert "operator-a" not in form.message_id


def test_case_07_post_without_message_id_is_keyed_on_its_bytes(archive: Archiver) -> None:
    message = post()
    del message["Message-ID"]
    first = archive(message)
    assert first.message_id == archive(message).message_id
    changed = post(body="Another text.\n")
    del changed["Message-ID"]
    assert archive(changed).message_id != first.message_id


def test_case_08_references_keep_only_archived_ids(archive: Archiver) -> None:
    def key(original: str) -> str:
        return keyed_message_id(LIST_KEY, original, "lists.example")

    root, middle, off_list = "root@mail.operator-a.example", "m2@betreiber-b.example", "x@other"
    message = post(
        headers=[
            ("References", f"<{root}> <{off_list}> <{middle}>"),
            ("In-Reply-To", f"<{middle}>"),
        ]
    )
    ctx = make_ctx(archived_references=frozenset({key(root), key(middle)}))
    form = archive(message, ctx)
    assert form.references == (key(root), key(middle))
    assert form.in_reply_to == key(middle)
    archived = reparsed(form)
    assert str(archived["In-Reply-To"]) == key(middle)
    assert str(archived["References"]).split() == [key(root), key(middle)]
    assert key(off_list) not in archived_bytes(form)
    # The thread view (nesting on the web) is archive/'s job: tests/test_archive_e2e.py.


def test_case_09_dkim_arc_authentication_results_absent(archive: Archiver) -> None:
    form = archive(eml("outlook_exchange_online_de_reply.eml"), make_ctx(participants=THREAD))
    text = archived_bytes(form).lower()
    for leak in ("dkim", "arc-", "authentication-results", "received-spf", "selector1", "bh="):
        assert leak not in text
    # The distribution copy's DKIM policy is the server's (tests/test_archive_e2e.py).


def test_case_10_organisation_client_and_language_fields_absent(archive: Archiver) -> None:
    message = post(
        headers=[
            ("Organization", "Operator A GmbH"),
            ("Comments", "sent by Alice from the SOC"),
            ("Keywords", "operator-a, incident"),
            ("Face", "iVBORw0KGgoAAAANSUhEUgAAADAAAAAw"),
            ("X-Face", '"8#<_Fi!ZV"3(E(k&0l"H@k6'),
            ("User-Agent", "Mozilla Thunderbird"),
            ("X-Mailer", "Microsoft Outlook 16.0"),
            ("X-MimeOLE", "Produced By Microsoft MimeOLE V6.00.2900.5512"),
            ("Content-Language", "de-DE"),
            ("Accept-Language", "de-DE, en-US"),
        ]
    )
    text = archived_bytes(archive(message))
    for leak in ("Thunderbird", "Outlook", "MimeOLE", "de-DE", "SOC", "iVBORw0KGgo", "Fi!ZV"):
        assert leak not in text


def test_case_11_exchange_and_google_fields_absent(archive: Archiver) -> None:
    outlook = archived_bytes(
        archive(eml("outlook_exchange_online_de_reply.eml"), make_ctx(participants=THREAD))
    )
    for leak in ("Thread-", "AQHa", "9b8c7d6e", "MSIP", "CrossTenant", "X-MS-", "DB9PR04MB8410"):
        assert leak not in outlook
    gmail = archived_bytes(
        archive(
            eml("gmail_workspace_reply.eml"),
            make_ctx(author_key="giulia", participants={"alice": "Participant A", "giulia": "B"}),
        )
    )
    for leak in ("X-Google", "X-Gm-", "X-Received", "2002:a05", "1e100", "mail.gmail.com"):
        assert leak not in gmail


def test_case_12_spam_and_virus_stamps_absent(archive: Archiver) -> None:
    message = post(
        headers=[
            ("X-Spam-Checker-Version", "SpamAssassin 4.0.0 (2022-12-13) on mx.operator-a.example"),
            ("X-Spam-Status", "No, score=-2.1 required=5.0 tests=DKIM_SIGNED"),
            ("X-Virus-Scanned", "amavisd-new at operator-a.example"),
            ("X-IronPort-AV", "E=Sophos;i=6.10,198,1719871200"),
            ("X-Proofpoint-Spam-Details", "rule=outbound_notspam"),
            ("X-Mimecast-Spam-Score", "0"),
        ]
    )
    text = archived_bytes(archive(message))
    for leak in ("SpamAssassin", "amavisd", "IronPort", "Proofpoint", "Mimecast", "X-Spam"):
        assert leak not in text


def test_case_13_date_is_rounded_utc_receipt_time(archive: Archiver) -> None:
    message = post()  # written "Tue, 3 Sep 2024 10:01:07 +0200"
    received = datetime(2024, 9, 3, 10, 1, 31, tzinfo=timezone(timedelta(hours=2)))
    hourly = archive(message, make_ctx(received_at=received))
    assert str(reparsed(hourly)["Date"]) == "Tue, 03 Sep 2024 08:00:00 +0000"
    assert hourly.date == datetime(2024, 9, 3, 8, 0, tzinfo=UTC)
    daily = archive(message, make_ctx(received_at=received, date_rounding="day"))
    assert str(reparsed(daily)["Date"]) == "Tue, 03 Sep 2024 00:00:00 +0000"
    for form in (hourly, daily):
        assert "+0200" not in archived_bytes(form)
        assert ":07" not in archived_bytes(form)
        assert ":31" not in archived_bytes(form)


def test_case_14_receipt_requests_absent(archive: Archiver) -> None:
    message = post(
        headers=[
            ("Disposition-Notification-To", "Alice Müller <alice@operator-a.example>"),
            ("Return-Receipt-To", "alice@operator-a.example"),
            ("X-Confirm-Reading-To", "alice@operator-a.example"),
            ("X-PMRQC", "1"),
        ]
    )
    text = archived_bytes(archive(message))
    for leak in ("Disposition-Notification", "Return-Receipt", "Confirm-Reading", "PMRQC"):
        assert leak not in text
    # Their removal from the distribution copy is filters/list_headers.py's (the lead's).


def test_case_15_autocrypt_and_openpgp_fields_absent(archive: Archiver) -> None:
    inner = EmailMessage(policy=policy.default)
    inner["Autocrypt-Gossip"] = "addr=bob@operator-b.example; keydata=mDMEZtbG1RYJKwYBBAHaRw8BAQdA"
    inner.set_content("Gossip inside the signed part.\n")
    message = raw_message(
        b"From: " + samples.ALICE_FROM.encode() + b"\nTo: ciso@lists.example\nSubject: Keys\n"
        b"Autocrypt: addr=alice@operator-a.example; prefer-encrypt=mutual; keydata=mDMEZtbG1RYJ\n"
        b"OpenPGP: id=7A3F19C255E08B41; url=https://keys.operator-a.example/alice.asc\n"
        b'Content-Type: multipart/signed; protocol="application/pgp-signature"; micalg=pgp-sha256;'
        b' boundary="sig"\n\n--sig\n' + inner.as_bytes() + b"\n--sig\n"
        b"Content-Type: application/pgp-signature\n\n-----BEGIN PGP SIGNATURE-----\n"
        b"iHUEARYIAB0WIQR6PxnCVeCLQdapDD5PIbjXblqQEwUCZtbG1QAKCRBPIbjXblqQ\n"
        b"-----END PGP SIGNATURE-----\n--sig--\n"
    )
    form = archive(message)
    text = archived_bytes(form)
    for leak in ("Autocrypt", "OpenPGP", "keydata", "mDMEZtbG1RYJ", "7A3F19C255E08B41"):
        assert leak not in text
    assert "Gossip inside the signed part." in form.text


def test_case_15_autocrypt_gossip_inside_an_encrypted_part_is_never_archived(
    archive: Archiver,
) -> None:
    message = raw_message(
        b"From: " + samples.ALICE_FROM.encode() + b"\nTo: ciso@lists.example\nSubject: ...\n"
        b'Content-Type: multipart/encrypted; protocol="application/pgp-encrypted"; boundary="e"\n\n'
        b"--e\nContent-Type: application/pgp-encrypted\n\nVersion: 1\n\n--e\n"
        b'Content-Type: application/octet-stream; name="encrypted.asc"\n\n'
        b"-----BEGIN PGP MESSAGE-----\n\nhF4DAbCdEfGhIjKlEgEHQAutocryptGossipInside\n"
        b"-----END PGP MESSAGE-----\n--e--\n"
    )
    form = archive(message, held=True)
    assert "AutocryptGossip" not in archived_bytes(form)


def test_case_16_unknown_header_absent(archive: Archiver) -> None:
    form = archive(post(headers=[("X-Foo-Identity", "alice"), ("X-Future-Header", "tenant=42")]))
    assert "X-Foo" not in archived_bytes(form)
    assert "tenant=42" not in archived_bytes(form)


def test_case_17_subject_prefixes_tags_and_names(archive: Archiver) -> None:
    message = post(subject="AW: WG: [EXTERNAL] Frage von Jürgen Müller zu Betreiber B")
    form = archive(message)
    assert form.subject == "Re: Fwd: Frage von [participant] zu [member organisation]"
    assert str(reparsed(form)["Subject"]) == form.subject


def test_case_17_outlook_fixture_subject(archive: Archiver) -> None:
    form = archive(eml("outlook_exchange_online_de_reply.eml"))
    assert form.subject == "Re: Fwd: Frage von [participant] zu [member organisation]"


def test_case_17_tlp_tag_removed_from_subject_and_kept_as_field(archive: Archiver) -> None:
    form = archive(
        post(subject="Re: [TLP:AMBER] TR-069 scanning"), make_ctx(label="TLP:AMBER+STRICT")
    )
    assert form.subject == "Re: TR-069 scanning"
    assert str(reparsed(form)["TLP"]) == "AMBER+STRICT"


# --- 2.2 and 2.4 MIME structure, HTML, crypto, nested messages: cases 18-33 ----

SIGNATURE_PLAIN = (
    "Best regards,\nAlice Müller\nCISO | Operator A GmbH\nTel. +49 30 1234567\n\n"
    "________________________________\n"
    "This e-mail and any attachments are confidential and intended solely for the addressee. "
    "If you have received it in error, please notify the sender. Operator A GmbH, "
    "Amtsgericht Berlin HRB 123456.\n"
)


def test_case_18_alternative_gives_one_scrubbed_representation(archive: Archiver) -> None:
    message = post("We blocked 192.0.2.66 at 07:10 UTC.\n\n" + SIGNATURE_PLAIN)
    message.add_alternative(
        "<html><body><p>We blocked 192.0.2.66 at 07:10 UTC.</p>"
        "<div id='Signature'><p>Best regards,<br>Alice M&uuml;ller<br>CISO | Operator A GmbH<br>"
        "Tel. +49 30 1234567</p></div><p style='font-size:8pt'>This e-mail and any attachments are"
        " confidential and intended solely for the addressee. Operator A GmbH</p></body></html>",
        subtype="html",
    )
    form = archive(message)
    archived = reparsed(form)
    text_parts = [part for part in archived.walk() if part.get_content_maintype() == "text"]
    assert [part.get_content_type() for part in text_parts] == ["text/plain"]
    assert "We blocked 192.0.2.66 at 07:10 UTC." in form.text
    assert "confidential" not in form.text
    assert "Best regards" not in form.text
    assert "+49" not in form.text


def test_case_19_html_remote_resources_removed(archive: Archiver) -> None:
    message = post(
        "<html><body><p>New C2 domain: update-check.evil-cdn.example (since 2024-09-03).</p>"
        '<img src="https://www.operator-a.example/mail/logo.png" alt="">'
        '<img src="https://track.mailstat.example/open/8f2c1d.gif" width="1" height="1">'
        '<img srcset="https://cdn.operator-b.example/sig@2x.png 2x, https://cdn.operator-b.example/'
        'sig.png 1x" src="https://cdn.operator-b.example/sig.png">'
        '<div style="background:url(https://img.operator-a.example/bg.png)">x</div>'
        "</body></html>",
        subtype="html",
    )
    form = archive(message)
    assert "update-check.evil-cdn.example" in form.text
    readable = everything_readable(form)
    for leak in ("logo.png", "mailstat", "8f2c1d", "sig@2x", "bg.png", "<img"):
        assert leak not in readable


def test_case_20_hidden_html_text_removed(archive: Archiver) -> None:
    message = post(
        "<html><head><title>Alice Müller – Operator A GmbH</title>"
        '<meta name="author" content="Alice Müller"><meta name="Generator" content="Operator A">'
        "</head><body lang='de-DE'><!-- drafted by Alice Müller -->"
        "<p>Patch CVE-2024-3094 now; xz 5.6.0 and 5.6.1 are backdoored.</p>"
        '<div style="display:none">Alice Müller</div>'
        '<span style="mso-hide:all">Operator A GmbH</span>'
        '<span style="font-size:0">alice@operator-a.example</span>'
        '<p style="color:#ffffff">Alice Müller, Operator A</p>'
        "<!--[if gte mso 9]><xml><o:OfficeDocumentSettings>Alice Müller</o:OfficeDocumentSettings>"
        "</xml><![endif]--></body></html>",
        subtype="html",
    )
    form = archive(message)
    assert "CVE-2024-3094" in form.text
    assert "5.6.1" in form.text


def test_case_21_signature_block_and_its_inline_logo_removed(archive: Archiver) -> None:
    form = archive(eml("outlook_exchange_online_de_reply.eml"), make_ctx(participants=THREAD))
    assert form.attachments == ()
    assert "image/png" not in archived_bytes(form)
    assert "Mit freundlichen" not in form.text
    assert "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08" in form.text


def test_case_21_large_logo_inside_a_signature_block_is_dropped(archive: Archiver) -> None:
    logo = samples.png_screenshot_with_text_chunks()  # > 10 KB, so size alone would keep it
    assert len(logo) > 2_000
    big_logo = _noisy_png(120, 120)
    assert len(big_logo) > 10 * 1024
    message = post("Blocked 192.0.2.66.\n")
    message.add_alternative(
        "<html><body><p>Blocked 192.0.2.66.</p><div class='gmail_signature'>"
        "<img src='cid:logo-1@operator-a.example'></div></body></html>",
        subtype="html",
    )
    html_part = message.get_payload()[1]
    html_part.add_related(big_logo, "image", "png", cid="<logo-1@operator-a.example>")
    form = archive(message)
    assert form.attachments == ()
    assert "logo-1" not in archived_bytes(form)


def test_case_21_screenshot_in_the_body_is_kept(archive: Archiver) -> None:
    """A pasted screenshot (51 KB, referenced from the body, not a signature) is content."""
    form = archive(
        eml("thunderbird_flowed_reply.eml"), make_ctx(author_key="jurgen", participants=THREAD)
    )
    assert [attachment.filename for attachment in form.attachments] == ["attachment-1.png"]


def _noisy_png(width: int, height: int) -> bytes:
    image = Image.new("RGB", (width, height))
    image.putdata(
        [
            ((x * 31 + y * 17) % 251, (x * y) % 241, (x ^ y) % 239)
            for y in range(height)
            for x in range(width)
        ]
    )
    out = io.BytesIO()
    image.save(out, "PNG")
    return out.getvalue()


def test_case_22_gmail_quote_attribution_becomes_the_pseudonym(archive: Archiver) -> None:
    participants = {"alice": "Participant A", "giulia": "Participant B"}
    form = archive(
        eml("gmail_workspace_reply.eml"), make_ctx(author_key="giulia", participants=participants)
    )
    assert "Participant A wrote:" in form.text
    assert "> We see scans from 192.0.2.66 on TCP/7547 since 06:00 UTC." in form.text
    assert "192.0.2.66 hit our CPE management network at 05:59 UTC" in form.text
    assert "Cordiali saluti" not in form.text
    assert "Best regards" not in form.text
    assert "firma/logo.png" not in everything_readable(form)
    assert str(reparsed(form)["From"]) == "Participant B <participant@archive.invalid>"


def test_case_23_boundaries_and_content_ids_are_fresh(archive: Archiver) -> None:
    outlook = archive(eml("outlook_exchange_online_de_reply.eml"), make_ctx(participants=THREAD))
    thunderbird = archive(
        eml("thunderbird_flowed_reply.eml"), make_ctx(author_key="jurgen", participants=THREAD)
    )
    for form, leaks in (
        (outlook, ("_000_DB9PR04MB8410", "_004_DB9PR04", "image001.png", "01DAFE12")),
        (thunderbird, ("9Ztg0VxHkL2JfQ3aWp5Rc1Mn", "part1.Xk3bQ7Lm", "8Hs2Tn5V", "dashboard.png")),
    ):
        text = archived_bytes(form)
        assert "Content-ID" not in text
        for leak in leaks:
            assert leak not in text


def test_case_23_boundary_is_derived_from_content(archive: Archiver) -> None:
    message = with_attachment(post(), samples.pdf_report(), "application/pdf", "report.pdf")
    first, second = archive(message), archive(message)
    assert first.message == second.message
    boundary = reparsed(first).get_boundary()
    assert boundary
    assert boundary.startswith("=_archive_")


def test_case_24_attachment_names_and_date_parameters_rewritten(archive: Archiver) -> None:
    pdf = base64.encodebytes(samples.pdf_report()).decode()
    message = raw_message(
        "From: " + samples.ALICE_FROM + "\nTo: ciso@lists.example\nSubject: Bericht\n"
        'Content-Type: multipart/mixed; boundary="b"\n\n--b\nContent-Type: text/plain\n\n'
        "Report attached.\n--b\n"
        "Content-Type: application/pdf; name*=UTF-8''Bericht_M%C3%BCller_OperatorA.pdf\n"
        "Content-Description: Bericht_Mueller_OperatorA.pdf\n"
        "Content-Disposition: attachment; filename*=UTF-8''Bericht_M%C3%BCller_OperatorA.pdf;\n"
        ' creation-date="Tue, 03 Sep 2024 10:00:00 +0200";\n'
        ' modification-date="Tue, 03 Sep 2024 10:00:05 +0200"; size=2202\n'
        "Content-Transfer-Encoding: base64\n\n" + pdf + "--b--\n"
    )
    form = archive(message)
    assert [attachment.filename for attachment in form.attachments] == ["attachment-1.pdf"]
    part = next(reparsed(form).iter_attachments())
    assert part.get_filename() == "attachment-1.pdf"
    assert part["Content-Disposition"].params == {"filename": "attachment-1.pdf"}
    text = archived_bytes(form)
    for leak in ("creation-date", "modification-date", "size=", "Bericht_", "+0200", "Description"):
        assert leak not in text


def test_case_25_smime_signature_part_and_certificate_absent(archive: Archiver) -> None:
    form = archive(samples.smime_detached_signed())
    assert "IOC update: C2 moved to 192.0.2.77 on 2024-09-03." in form.text
    der = samples.certificate_der()
    text = archived_bytes(form)
    assert "pkcs7" not in text.lower()
    assert base64.b64encode(der)[:60].decode() not in text.replace("\n", "")
    for readable in texts_of_message(form.message):
        assert der[40:80].decode("latin-1") not in readable


def test_case_26_opaque_smime_signed_data_is_unwrapped(archive: Archiver) -> None:
    form = archive(samples.smime_opaque_signed())
    assert "IOC update: C2 moved to 192.0.2.77 on 2024-09-03." in form.text
    der = samples.certificate_der()
    assert "pkcs7" not in archived_bytes(form).lower()
    for readable in texts_of_message(form.message):
        assert der[40:80].decode("latin-1") not in readable
    assert form.attachments == ()


def test_case_26_unparseable_opaque_smime_is_held(archive: Archiver) -> None:
    message = raw_message(
        "From: " + samples.ALICE_FROM + "\nTo: ciso@lists.example\nSubject: Signed\n"
        "Content-Type: application/pkcs7-mime; smime-type=signed-data; name=smime.p7m\n"
        "Content-Transfer-Encoding: base64\n\nMIIBAgMEBQYHCAkKCwwNDg8QERITFBUWFxgZGhscHR4f\n"
    )
    form = archive(message, held=True)
    assert "MIIBAgMEBQYHCAkK" not in archived_bytes(form)


@pytest.mark.parametrize("kind", ["pgp-mime", "smime-enveloped"])
def test_case_27_encrypted_content_is_held_never_archived_raw(archive: Archiver, kind: str) -> None:
    if kind == "pgp-mime":
        ciphertext = "hQEMA8hJ2TRaD5UFAQf/Zm9vYmFyY2lwaGVydGV4dA=="
        message = raw_message(
            "From: " + samples.ALICE_FROM + "\nTo: ciso@lists.example\nSubject: ...\n"
            'Content-Type: multipart/encrypted; protocol="application/pgp-encrypted";'
            ' boundary="enc"\n\n--enc\nContent-Type: application/pgp-encrypted\n\nVersion: 1\n\n'
            '--enc\nContent-Type: application/octet-stream; name="encrypted.asc"\n\n'
            f"-----BEGIN PGP MESSAGE-----\n\n{ciphertext}\n=Ab1c\n-----END PGP MESSAGE-----\n"
            "--enc--\n"
        )
    else:
        message = samples.smime_enveloped()
        ciphertext = message.get_payload(decode=False).replace("\r", "").split("\n")[2][:40]
    form = archive(message, held=True)
    assert "encrypted" in (form.hold_reason or "")
    assert FlagKind.ENCRYPTED in flag_kinds(form)
    assert "[encrypted content not archived]" in form.text
    assert ciphertext not in archived_bytes(form)
    assert "BEGIN PGP" not in archived_bytes(form)
    assert "pkcs7" not in archived_bytes(form).lower()


def test_case_28_pgp_signatures_removed_and_cleartext_unescaped(archive: Archiver) -> None:
    inner = EmailMessage(policy=policy.default)
    inner.set_content(
        "-----BEGIN PGP SIGNED MESSAGE-----\nHash: SHA256\n\n"
        "Block these indicators:\n- - 192.0.2.66\n- - evil-invoice.example\n"
        "- -----BEGIN NOT ARMOUR-----\n"
        "-----BEGIN PGP SIGNATURE-----\n\n"
        "iHUEARYIAB0WIQR6PxnCVeCLQdapDD5PIbjXblqQEwUCZtbG1QAKCRBPIbjXblqQ\n=x9Yz\n"
        "-----END PGP SIGNATURE-----\n"
    )
    message = raw_message(
        b"From: " + samples.ALICE_FROM.encode() + b"\nTo: ciso@lists.example\nSubject: IOCs\n"
        b'Content-Type: multipart/signed; protocol="application/pgp-signature"; micalg=pgp-sha256;'
        b' boundary="s"\n\n--s\n' + inner.as_bytes() + b"\n--s\n"
        b'Content-Type: application/pgp-signature; name="signature.asc"\n\n'
        b"-----BEGIN PGP SIGNATURE-----\n\niHUEARYIAB0WIQTwoSignaturePart\n"
        b"-----END PGP SIGNATURE-----\n--s--\n"
    )
    form = archive(message)
    assert "- 192.0.2.66\n- evil-invoice.example" in form.text
    assert "-----BEGIN NOT ARMOUR-----" in form.text
    text = archived_bytes(form)
    for leak in ("BEGIN PGP", "Hash: SHA256", "iHUEARYIAB0W", "signature.asc", "- - 192"):
        assert leak not in text


def test_case_29_pgp_keys_attachment_and_key_block_removed(archive: Archiver) -> None:
    key_block = (
        "-----BEGIN PGP PUBLIC KEY BLOCK-----\n\n"
        "mDMEZtbG1RYJKwYBBAHaRw8BAQdAm5vCsb6dIRZ9dC0yRUn6rS+TaDqfT3GB2Yy0\n"
        "-----END PGP PUBLIC KEY BLOCK-----\n"
    )
    message = post("Here is my new key for encrypted reports.\n\n" + key_block)
    message.add_attachment(
        key_block.encode(), maintype="application", subtype="pgp-keys", filename="alice.asc"
    )
    form = archive(message)
    assert "Here is my new key for encrypted reports." in form.text
    text = archived_bytes(form)
    assert "mDMEZtbG1RYJ" not in text
    assert "PUBLIC KEY" not in text
    assert form.attachments == ()
    assert "[OpenPGP key not archived]" in form.text


def test_case_30_forwarded_phishing_sample_keeps_iocs_redacts_members(
    archive: Archiver,
) -> None:
    form = archive(eml("apple_mail_forwarded_phish.eml"))
    text = form.text
    assert "----- forwarded message -----" in text
    for ioc in (
        "billing@evil-invoice.example",
        "payments@evil-collect.example",
        "bounce-7731@mailer.evil-invoice.example",
        "http://evil-invoice.example/pay?id=88231",
        "192.0.2.66",
        "Overdue invoice #88231",
        "PHPMailer 6.8.0",
        "<20240903051237.88231@mailer.evil-invoice.example>",
    ):
        assert ioc in text, ioc
    assert "\nTo:" not in text  # the sample's recipient is a member, never an IOC
    for leak in ("exch01", "opa.corp", "for <", "Apple-Mail", "4C2B1A09"):
        assert leak not in archived_bytes(form)
    assert "Apple Mail" not in archived_bytes(form)
    kinds = flag_kinds(form)
    assert FlagKind.NON_MEMBER_ADDRESS in kinds
    assert FlagKind.NON_MEMBER_URL in kinds


def test_case_31_forwarded_internal_mail_from_a_member(archive: Archiver) -> None:
    internal = raw_message(
        "From: Bob Brown <bob@operator-b.example>\n"
        "To: SOC Operator B <soc@operator-b.example>\n"
        "Cc: Alice Müller <alice@operator-a.example>\n"
        "Subject: Incident 4711 summary\n"
        "Date: Mon, 2 Sep 2024 18:12:44 +0100\n"
        "Message-ID: <4711@exch.operator-b.example>\n"
        "X-Mailer: Microsoft Outlook 16.0\n\n"
        "Findings: the CPE botnet used 192.0.2.66 as C2 from 2024-09-01 to 2024-09-02.\n\n"
        "Best regards,\nBob Brown\nHead of Security | Operator B Ltd\n+44 20 7946 0000\n"
    )
    message = post("Forwarding Bob's summary with his permission.\n")
    message.add_attachment(internal)
    form = archive(
        message, make_ctx(participants={"alice": "Participant A", "bob": "Participant B"})
    )
    assert (
        "Findings: the CPE botnet used 192.0.2.66 as C2 from 2024-09-01 to 2024-09-02." in form.text
    )
    assert "\nFrom: Participant B\n" in form.text
    text = archived_bytes(form)
    for leak in ("+44 20 7946 0000", "Head of Security", "4711@", "+0100", "18:12", "Outlook"):
        assert leak not in text
    assert "Date: Mon, 02 Sep 2024 17:00:00 +0000" in form.text


def _tnef_with_pdf() -> bytes:
    """winmail.dat: TNEF signature, MAPI sender name and an attached PDF (MS-OXTNEF §2.1)."""
    sender = "Alice Müller".encode("utf-16-le")
    return (
        b"\x78\x9f\x3e\x22\x01\x00"
        + b"\x01\x06\x90\x08\x00"
        + b"PR_SENDER_NAME\x00"
        + sender
        + b"/O=OPERATOR A/OU=EXCHANGE/CN=RECIPIENTS/CN=ALICE\x00"
        + samples.pdf_report()
    )


def test_case_32_winmail_dat_never_archived(archive: Archiver) -> None:
    message = with_attachment(post(), _tnef_with_pdf(), "application/ms-tnef", "winmail.dat")
    form = archive(message)
    text = archived_bytes(form)
    assert "tnef" not in text.lower()
    assert "winmail" not in text.lower()
    assert "RECIPIENTS" not in everything_readable(form)
    assert all(attachment.content_type != "application/ms-tnef" for attachment in form.attachments)


def test_case_33_vcard_msg_and_calendar_dropped_or_stripped(archive: Archiver) -> None:
    vcard = (
        "BEGIN:VCARD\r\nVERSION:3.0\r\nFN:Alice Müller\r\nORG:Operator A GmbH\r\n"
        "TEL:+49 30 1234567\r\nEMAIL:alice@operator-a.example\r\nEND:VCARD\r\n"
    )
    calendar = (
        "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nMETHOD:REQUEST\r\nBEGIN:VEVENT\r\n"
        "UID:040000008200E00074C5B7101A82E008@operator-a.example\r\n"
        "DTSTART:20240904T080000Z\r\nSUMMARY:Incident call TR-069\r\n"
        "ORGANIZER;CN=Alice Müller:mailto:alice@operator-a.example\r\n"
        "ATTENDEE;CN=Bob Brown;ROLE=REQ-PARTICIPANT:mailto:bob@operator-b.example\r\n"
        "DESCRIPTION:Join: https://teams.microsoft.com/l/meetup-join/19%3ameeting_NjA@thread.v2/0"
        "?context=%7b%22Tid%22%3a%229b8c7d6e-5f4a-3b2c-1d0e-f9e8d7c6b5a4%22%2c%22Oid%22%3a"
        "%22c1d2e3f4-a5b6-4c7d-8e9f-0a1b2c3d4e5f%22%7d\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n"
    )
    ole = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 504 + "Alice Müller".encode("utf-16-le")
    message = post("Invitation and my card attached.\n")
    message.add_attachment(vcard, subtype="vcard", filename="Alice Müller.vcf")
    message.add_attachment(
        ole, maintype="application", subtype="vnd.ms-outlook", filename="Incident.msg"
    )
    message.add_attachment(calendar, subtype="calendar", filename="invite.ics")
    form = archive(message)
    readable = everything_readable(form)
    for leak in ("9b8c7d6e", "c1d2e3f4", "BEGIN:VCARD", "ORGANIZER", "ATTENDEE", "040000008200E"):
        assert leak not in readable
    assert not any(
        attachment.content_type in ("text/vcard", "application/vnd.ms-outlook")
        for attachment in form.attachments
    )
    assert "Invitation and my card attached." in form.text


# --- 2.3 attachment metadata: cases 34-41 -------------------------------------


def _only_attachment(form: ArchiveForm) -> bytes:
    assert len(form.attachments) == 1, form.flags
    return form.attachments[0].data


def test_case_34_pdf_metadata_annotations_files_and_scripts_removed(archive: Archiver) -> None:
    message = with_attachment(post(), samples.pdf_report(), "application/pdf", "report.pdf")
    form = archive(message)
    assert form.attachments[0].filename == "attachment-1.pdf"
    data = _only_attachment(form)
    with pikepdf.open(io.BytesIO(data)) as pdf:
        assert "/Author" not in pdf.docinfo
        assert "/Producer" not in pdf.docinfo
        assert "/Metadata" not in pdf.Root
        assert "/Names" not in pdf.Root or "/EmbeddedFiles" not in pdf.Root.Names
        assert "/OpenAction" not in pdf.Root
        for page in pdf.pages:
            for annotation in page.obj.get("/Annots", []):
                assert "/T" not in annotation
        text = b"".join(page.Contents.read_bytes() for page in pdf.pages)
    assert b"192.0.2.66" in text
    assert b"JavaScript" not in data
    assert archive(message).attachments[0].data == data  # deterministic /ID and bytes


def test_case_35_old_pdf_revision_is_not_kept(archive: Archiver) -> None:
    data = samples.pdf_with_old_revision()
    assert b"Operator A internal" in data
    form = archive(with_attachment(post(), data, "application/pdf", "outage.pdf"))
    for attachment in form.attachments:
        assert b"Operator A" not in attachment.data
        with pikepdf.open(io.BytesIO(attachment.data)) as pdf:
            assert b"core router" in pdf.pages[0].Contents.read_bytes()
    assert "Operator A internal" not in everything_readable(form)


def test_case_36_docx_metadata_comments_revisions_thumbnail_removed(archive: Archiver) -> None:
    docx_type = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
    form = archive(with_attachment(post(), samples.docx(), docx_type, "Bericht_AMueller.docx"))
    assert form.attachments[0].filename == "attachment-1.docx"
    with zipfile.ZipFile(io.BytesIO(_only_attachment(form))) as package:
        names = set(package.namelist())
        document = package.read("word/document.xml").decode()
    assert not names & {"docProps/custom.xml", "word/comments.xml", "word/people.xml"}
    assert not any("thumbnail" in name for name in names)
    assert "w:author" not in document
    assert "w:rsid" not in document
    assert "192.0.2.66" in document
    assert "Blocked at the border on 2024-09-03." in document


def test_case_37_docx_footer_naming_a_member_is_held_with_a_flag(archive: Archiver) -> None:
    docx_type = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
    data = samples.docx(footer_text="Operator A – intern")
    form = archive(with_attachment(post(), data, docx_type, "summary.docx"))
    assert form.attachments == ()
    assert FlagKind.ATTACHMENT_CONTENT_HIT in flag_kinds(form)
    assert "attachment" in form.text.split("----- not archived -----")[-1]


@pytest.mark.parametrize(
    ("build", "content_type", "filename"),
    [
        (
            samples.xlsx_with_threaded_comments,
            "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
            "iocs.xlsx",
        ),
        (
            samples.pptx_with_notes,
            "application/vnd.openxmlformats-officedocument.presentationml.presentation",
            "briefing.pptx",
        ),
        (samples.odt_with_meta, "application/vnd.oasis.opendocument.text", "wave.odt"),
    ],
)
def test_case_38_spreadsheet_presentation_and_odf_people_removed_or_flagged(
    archive: Archiver, build: object, content_type: str, filename: str
) -> None:
    assert callable(build)
    form = archive(with_attachment(post(), build(), content_type, filename))
    if form.attachments:
        with zipfile.ZipFile(io.BytesIO(form.attachments[0].data)) as package:
            names = package.namelist()
        for gone in (
            "persons/",
            "threadedComments/",
            "notesSlides/",
            "Thumbnails/",
            "settings.xml",
        ):
            assert not any(gone in name for name in names), names
    else:
        assert flag_kinds(form) & {FlagKind.ATTACHMENT_CONTENT_HIT, FlagKind.ATTACHMENT_DROPPED}
    assert "LibreOffice" not in everything_readable(form)
    assert "Roma piano" not in everything_readable(form)


def test_case_39_jpeg_reencoded_without_exif_orientation_kept(archive: Archiver) -> None:
    form = archive(
        with_attachment(post(), samples.jpeg_with_exif(), "image/jpeg", "IMG_20240903_100107.jpg")
    )
    data = _only_attachment(form)
    assert form.attachments[0].filename == "attachment-1.jpg"
    with Image.open(io.BytesIO(data)) as image:
        exif = image.getexif()
        assert not exif.get_ifd(0x8825)  # no GPS
        assert 0x013B not in exif  # no Artist
        assert 0x8298 not in exif  # no Copyright
        assert 0xA431 not in exif.get_ifd(0x8769)  # no BodySerialNumber
        assert "xmp" not in image.info
        assert "comment" not in image.info
        upright = ImageOps.exif_transpose(image)
        assert upright.size == (40, 60)  # the camera's "rotate 90°" is applied or kept
    for leak in (b"SN-4711", b"+02:00", b"PhoneMaker", b"2024:09:03"):
        assert leak not in data


def test_case_40_png_text_chunks_removed_and_screenshot_flagged(archive: Archiver) -> None:
    form = archive(
        with_attachment(
            post(),
            samples.png_screenshot_with_text_chunks(),
            "image/png",
            "Screenshot 2024-09-03 100107.png",
        )
    )
    data = _only_attachment(form)
    with Image.open(io.BytesIO(data)) as image:
        assert not {key for key in image.info if key not in ("dpi", "gamma", "srgb")} - {
            "icc_profile"
        }
        assert image.size == (800, 500)
    for chunk in (b"tEXt", b"iTXt", b"zTXt", b"eXIf"):
        assert chunk not in data
    assert FlagKind.SCREENSHOT in flag_kinds(form)


@pytest.mark.parametrize(
    ("data", "content_type", "filename"),
    [
        (
            b"\x00\x00\x00\x18ftypheic\x00\x00\x00\x00mif1heic" + b"\x00" * 64,
            "image/heic",
            "IMG_0815.HEIC",
        ),
        (
            b'<?xml version="1.0"?><svg xmlns="http://www.w3.org/2000/svg" '
            b'xmlns:inkscape="http://www.inkscape.org/namespaces/inkscape" '
            b'inkscape:export-filename="/home/alice/operator-a/net.png" width="10" height="10">'
            b'<metadata>Alice M\xc3\xbcller</metadata><rect width="10" height="10"/></svg>',
            "image/svg+xml",
            "net.svg",
        ),
        (
            b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
            + b"\x00" * 504
            + "Alice Müller".encode("utf-16-le"),
            "application/msword",
            "Bericht.doc",
        ),
        (
            samples._zip({"alice_notes.txt": "Alice Müller, Operator A GmbH"}),
            "application/zip",
            "notes.zip",
        ),
    ],
    ids=["heic", "svg", "doc", "zip"],
)
def test_case_41_unsafe_types_never_pass_through(
    archive: Archiver, data: bytes, content_type: str, filename: str
) -> None:
    form = archive(with_attachment(post(), data, content_type, filename))
    assert all(attachment.data != data for attachment in form.attachments)
    assert form.attachments == ()
    assert flag_kinds(form) & {FlagKind.ATTACHMENT_DROPPED, FlagKind.ATTACHMENT_CONTENT_HIT}


# --- 2.5 body text: cases 42-60 -----------------------------------------------


def test_case_42_delimited_signature_removed(archive: Archiver) -> None:
    body = (
        "Indicators: 192.0.2.66, evil-invoice.example, SHA256 9f86d081884c7d65.\n\n"
        "-- \nAlice Müller\nChief Information Security Officer\nOperator A GmbH\n"
        "Beispielstraße 1, 10115 Berlin\nTel. +49 30 1234567, Fax +49 30 1234599\n"
        "Sitz der Gesellschaft: Berlin, Amtsgericht Charlottenburg HRB 123456 B\n"
    )
    form = archive(post(body))
    assert "Indicators: 192.0.2.66, evil-invoice.example, SHA256 9f86d081884c7d65." in form.text
    for leak in ("Chief Information", "Beispielstraße", "HRB", "1234599", "-- "):
        assert leak not in form.text


@pytest.mark.parametrize(
    ("closing", "author", "participants"),
    [
        ("Best regards,\nAlice Müller\nCISO, Operator A GmbH", "alice", {"alice": "Participant A"}),
        (
            "Mit freundlichen Grüßen\nJürgen Müller\nBetreiber B",
            "jurgen",
            {"alice": "Participant A", "jurgen": "Participant B"},
        ),
        (
            "Cordialement,\nJosé Martin\nOpérateur C",
            "jose_martin",
            {"jose_martin": "Participant A"},
        ),
        ("Saludos,\nJosé García\nOperador D S.A.", "jose_garcia", {"jose_garcia": "Participant A"}),
        (
            "Cordiali saluti\nGiulia Rossi\nOperatore E S.p.A.\n+39 06 1234 5678",
            "giulia",
            {"giulia": "Participant A"},
        ),
    ],
    ids=["en", "de", "fr", "es", "it"],
)
def test_case_43_undelimited_signatures_removed(
    archive: Archiver, closing: str, author: str, participants: dict[str, str]
) -> None:
    body = f"The C2 at 192.0.2.66 went offline at 09:40 UTC.\n\n{closing}\n"
    form = archive(post(body), make_ctx(author_key=author, participants=participants))
    assert "The C2 at 192.0.2.66 went offline at 09:40 UTC." in form.text
    assert closing.split("\n")[0] not in form.text


@pytest.mark.parametrize(
    "device_line",
    [
        "Sent from my iPhone",
        "Von meinem iPhone gesendet",
        "Envoyé de mon iPhone",
        "Enviado desde mi iPhone",
        "Inviato da iPhone",
        "Get Outlook for iOS",
    ],
)
def test_case_43_device_lines_removed(archive: Archiver, device_line: str) -> None:
    form = archive(post(f"Confirmed, same pattern here since 2024-09-03.\n\n{device_line}\n"))
    assert "Confirmed, same pattern here since 2024-09-03." in form.text
    assert device_line not in form.text


_OUTLOOK_BLOCKS = {
    "de": (
        "Von: Jürgen Müller <jm@betreiber-b.example>\nGesendet: Montag, 2. September 2024 17:45\n"
        "An: ciso@lists.example\nCc: Bob Brown <bob@operator-b.example>\n"
        "Betreff: Frage zu TR-069\n",
        "jurgen",
    ),
    "fr": (
        "De\u00a0: José Martin <jose.martin@operateur-c.example>\n"
        "Envoyé\u00a0: lundi 2 septembre 2024 17:45\nÀ\u00a0: ciso@lists.example\n"
        "Objet\u00a0: Question TR-069\n",
        "jose_martin",
    ),
    "es": (
        "De: José García <jgarcia@operador-d.example>\n"
        "Enviado el: lunes, 2 de septiembre de 2024 17:45\nPara: ciso@lists.example\n"
        "Asunto: Pregunta TR-069\n",
        "jose_garcia",
    ),
    "it": (
        "Da: Giulia Rossi <giulia.rossi@operatore-e.example>\n"
        "Inviato: lunedì 2 settembre 2024 17:45\nA: ciso@lists.example\n"
        "Oggetto: Domanda TR-069\n",
        "giulia",
    ),
    "en": (
        "From: Bob Brown <bob@operator-b.example>\nSent: Monday, September 2, 2024 5:45 PM\n"
        "To: ciso@lists.example\nSubject: Question TR-069\n",
        "bob",
    ),
}


@pytest.mark.parametrize("language", sorted(_OUTLOOK_BLOCKS))
def test_case_44_outlook_header_blocks_become_quoted_message_markers(
    archive: Archiver, language: str
) -> None:
    block, quoted = _OUTLOOK_BLOCKS[language]
    body = (
        "We see the same scans from 192.0.2.66.\n\n________________________________\n"
        + block
        + "\nDoes anyone else see scans on TCP/7547 since 2024-09-02?\n"
    )
    participants = {"alice": "Participant A", quoted: "Participant B"}
    form = archive(post(body), make_ctx(participants=participants))
    assert "----- quoted message (Participant B) -----" in form.text
    assert "Does anyone else see scans on TCP/7547 since 2024-09-02?" in form.text
    for leak in ("17:45", "5:45 PM", "Gesendet", "Envoyé", "Enviado", "Inviato", "Sent:"):
        assert leak not in form.text


@pytest.mark.parametrize(
    ("attribution", "quoted"),
    [
        ("Am 02.09.2024 um 17:45 schrieb Jürgen Müller <jm@betreiber-b.example>:", "jurgen"),
        (
            "Le lun. 2 sept. 2024 à 17:45, José Martin <jose.martin@operateur-c.example> a écrit :",
            "jose_martin",
        ),
        (
            "El lun, 2 sept 2024 a las 17:45, José García (<jgarcia@operador-d.example>) escribió:",
            "jose_garcia",
        ),
        (
            "Il giorno lun 2 set 2024 alle ore 17:45 Giulia Rossi"
            " <giulia.rossi@operatore-e.example> ha scritto:",
            "giulia",
        ),
        ("On Mon, 2 Sep 2024 at 17:45, Bob Brown <bob@operator-b.example> wrote:", "bob"),
    ],
    ids=["de", "fr", "es", "it", "en"],
)
def test_case_45_attribution_lines_become_the_thread_pseudonym(
    archive: Archiver, attribution: str, quoted: str
) -> None:
    body = f"Agreed, blocking now.\n\n{attribution}\n> Scans from 192.0.2.66 on TCP/7547.\n"
    participants = {"alice": "Participant A", quoted: "Participant B"}
    form = archive(post(body), make_ctx(participants=participants))
    assert "Participant B wrote:" in form.text
    assert "> Scans from 192.0.2.66 on TCP/7547." in form.text
    assert "17:45" not in form.text


def test_case_46_quoted_signature_and_disclaimer_scrubbed(archive: Archiver) -> None:
    body = (
        "Agreed, we see the same.\n\n"
        "On Mon, 2 Sep 2024 at 17:45, Bob Brown <bob@operator-b.example> wrote:\n"
        "> We see scans from 192.0.2.66 since 06:00 UTC.\n>\n> -- \n> Bob Brown\n"
        "> Head of Security, Operator B Ltd\n> +44 20 7946 0000\n>\n"
        "> This e-mail and any attachments are confidential and may be privileged. If you are"
        " not the intended recipient, please notify Operator B Ltd immediately.\n"
    )
    form = archive(
        post(body), make_ctx(participants={"alice": "Participant A", "bob": "Participant B"})
    )
    assert "> We see scans from 192.0.2.66 since 06:00 UTC." in form.text
    for leak in ("+44", "Head of Security", "confidential", "intended recipient"):
        assert leak not in form.text


def test_case_47_disclaimers_and_external_sender_banner_removed(archive: Archiver) -> None:
    body = (
        "CAUTION: This email originated from outside of the organization. Do not click links or"
        " open attachments unless you recognize the sender and know the content is safe.\n\n"
        "Patch level for CVE-2024-3094: xz 5.6.2 is clean.\n\n"
        "________________________________\n"
        "This e-mail and any attachments are confidential and intended solely for the use of"
        " the addressee. Operator A GmbH accepts no liability.\n"
        "Diese E-Mail enthält vertrauliche und/oder rechtlich geschützte Informationen. Wenn Sie"
        " nicht der richtige Adressat sind, informieren Sie bitte sofort den Absender.\n"
    )
    form = archive(post(body))
    assert "Patch level for CVE-2024-3094: xz 5.6.2 is clean." in form.text
    for leak in ("CAUTION", "originated from outside", "confidential", "vertrauliche", "Adressat"):
        assert leak not in form.text


def test_case_48_name_split_by_a_quoted_printable_soft_break(archive: Archiver) -> None:
    message = raw_message(
        b"From: " + samples.ALICE_FROM.encode() + b"\nTo: ciso@lists.example\nSubject: QP\n"
        b"Content-Type: text/plain; charset=utf-8\nContent-Transfer-Encoding: quoted-printable\n\n"
        b"Jochen from the SOC spoke with J=C3=BCrgen M=\n=C3=BCller about 192.0.2.66 today.\n"
    )
    form = archive(message)
    assert "192.0.2.66" in form.text
    assert "[participant]" in form.text


def test_case_49_name_split_by_a_base64_line_break(archive: Archiver) -> None:
    prefix = "x" * 54  # 57 bytes per base64 line: "Müller" straddles the first line end
    text = f"{prefix}Müller reported 192.0.2.66 on 2024-09-03.\n"
    encoded = base64.encodebytes(text.encode("utf-8"))
    first_line = base64.b64decode(encoded.split(b"\n")[0])
    assert first_line.endswith("Mü".encode()[:3]) or not first_line.endswith(b"r")
    message = raw_message(
        b"From: " + samples.ALICE_FROM.encode() + b"\nTo: ciso@lists.example\nSubject: B64\n"
        b"Content-Type: text/plain; charset=utf-8\nContent-Transfer-Encoding: base64\n\n" + encoded
    )
    form = archive(message)
    assert "reported 192.0.2.66 on 2024-09-03." in form.text


def test_case_50_name_variants_redacted(archive: Archiver) -> None:
    body = (
        'Mueller confirmed. MÜLLER called. J. Müller agreed. "Müller, Jürgen" signed. '
        "Ask jmueller about the 192.0.2.66 sinkhole.\n"
    )
    form = archive(post(body))
    assert "the 192.0.2.66 sinkhole" in form.text
    for leak in ("Mueller", "MÜLLER", "jmueller", "Jürgen"):
        assert leak not in form.text


def test_case_51_greek_and_cyrillic_names_and_their_transliterations(archive: Archiver) -> None:
    body = (
        "Ο Ιωάννης Παπαδόπουλος και ο Дмитрий Иванов είδαν το 192.0.2.66.\n"
        "Ioannis Papadopoulos and Dmitry Ivanov saw the same botnet on 2024-09-03.\n"
    )
    form = archive(post(body))
    assert "192.0.2.66" in form.text
    assert "saw the same botnet on 2024-09-03." in form.text
    for leak in ("Παπαδόπουλος", "Иванов", "Papadopoulos", "Ivanov"):
        assert leak not in form.text


def test_case_52_zero_width_and_homoglyph_spellings_redacted(archive: Archiver) -> None:
    body = "Ope\u200brator A and \u041eperator A both saw 192.0.2.66.\n"
    form = archive(post(body))
    assert "both saw 192.0.2.66." in form.text
    assert "perator A" not in form.text


def test_case_53_member_address_redacted_attacker_address_kept_and_flagged(
    archive: Archiver,
) -> None:
    message = post(
        "Contact alice@operator-a.example (mailto:alice@operator-a.example) for samples.\n"
        "IOC sender: billing@evil-invoice.example\n"
    )
    message.add_alternative(
        '<p>Contact <a href="mailto:alice@operator-a.example">me</a> for samples.<br>'
        "IOC sender: billing@evil-invoice.example</p>",
        subtype="html",
    )
    form = archive(message)
    assert "billing@evil-invoice.example" in form.text
    assert FlagKind.NON_MEMBER_ADDRESS in flag_kinds(form)
    html_only = post(
        '<p>Write to <a href="mailto:alice@operator-a.example">me</a>. IOC sender:'
        " billing@evil-invoice.example</p>",
        subtype="html",
    )
    assert "billing@evil-invoice.example" in archive(html_only).text


def test_case_54_member_urls_and_punycode_idn_become_member_links(archive: Archiver) -> None:
    punycode = "bücher-netz".encode("idna").decode()
    body = (
        "Status page: https://portal.soc.operator-a.example/x?case=4711\n"
        "Website: www.operator-a.example\n"
        f"Mirror: https://{punycode}.example/status\n"
        "Phishing: https://evil-invoice.example/login\n"
    )
    form = archive(post(body))
    assert form.text.count("[member organisation link]") == 3
    assert punycode not in form.text
    assert "4711" not in form.text
    assert "https://evil-invoice.example/login" in form.text


def test_case_55_safe_links_unwrapped_and_wrapper_data_absent(archive: Archiver) -> None:
    wrapped = (
        "https://eur01.safelinks.protection.outlook.com/?url=https%3A%2F%2Fevil-invoice.example"
        "%2Fpay%3Fid%3D88231&data=05%7C02%7Calice%40operator-a.example%7C5d1c2b3a4e5f6a7b8c9d0e1f"
        "2a3b4c5d%7C9b8c7d6e5f4a3b2c1d0ef9e8d7c6b5a4%7C0%7C0%7C638609000000000000%7CUnknown"
        "&sdata=Zm9vYmFyYmF6cXV1eA%3D%3D&reserved=0"
    )
    form = archive(post(f"Landing page: {wrapped}\n"))
    assert "https://evil-invoice.example/pay?id=88231" in form.text
    for leak in ("safelinks", "9b8c7d6e", "5d1c2b3a", "sdata", "alice%40"):
        assert leak not in everything_readable(form)


def test_case_56_phone_numbers_redacted(archive: Archiver) -> None:
    body = "Call +49 30 1234567 or 030/1234567; Rome: +39 06 1234 5678. Seen 2024-09-03.\n"
    form = archive(post(body))
    assert form.text.count("[phone]") == 3
    for leak in ("1234567", "1234 5678"):
        assert leak not in form.text
    assert "Seen 2024-09-03." in form.text


def test_case_57_organisation_self_references_redacted_sentence_kept(archive: Archiver) -> None:
    body = (
        "At Operator A we saw the wave first.\n"
        "Bei Betreiber B haben wir 192.0.2.66 gesperrt.\n"
        "Chez Opérateur C nous avons vu la même chose.\n"
    )
    form = archive(post(body))
    assert "we saw the wave first." in form.text
    assert "haben wir 192.0.2.66 gesperrt." in form.text
    assert "nous avons vu la même chose." in form.text
    # "Operator A" is registered as an alias of Alice, so the matcher may render it
    # as her label; the organisation names themselves become [member organisation].
    assert form.text.count("[member organisation]") + form.text.count("At Participant A") == 3


def test_case_58_other_members_are_participants_thread_members_their_letter(
    archive: Archiver,
) -> None:
    body = "As Bob Brown said in Vienna, 192.0.2.66 belongs to the botnet.\n"
    outside = archive(post(body))
    assert "As [participant] said in Vienna" in outside.text
    inside = archive(
        post(body), make_ctx(participants={"alice": "Participant A", "bob": "Participant B"})
    )
    assert "As Participant B said in Vienna" in inside.text


def test_case_59_asn_and_member_prefix_flagged_fingerprint_redacted(archive: Archiver) -> None:
    compact = ALICE_FINGERPRINT.replace(" ", "")
    body = (
        "Our AS64500 saw traffic from 198.51.100.23 to 192.0.2.66.\n"
        f"My key: {ALICE_FINGERPRINT}\nCompact: {compact}\n"
    )
    form = archive(post(body))
    assert "192.0.2.66" in form.text
    assert compact not in form.text.replace(" ", "")
    assert "AS64500" not in form.text  # a registered alias (the oracle requires it gone)
    assert "198.51.100.23" not in form.text or FlagKind.IP_ADDRESS in flag_kinds(form)


def test_case_60_our_links_and_banner_quoted_back_are_stripped(archive: Archiver) -> None:
    banner = tlp.banner_text(tlp.Tlp.AMBER)
    quoted_banner = "\n".join(f"> {line}" for line in banner.split("\n"))
    body = (
        "Thanks, confirmed here.\n\n"
        "On Tue, 3 Sep 2024 at 10:01, CISO reference group <ciso@lists.example> wrote:\n"
        f"{quoted_banner}\n>\n> We see scans from 192.0.2.66.\n>\n"
        "> Unsubscribe: https://lists.example/u/6f2Yx0Qa9-Lb3K7mN1pR5sT8vW\n"
        "> Archive sign-in: <https://lists.example/signin/Zx81Qw4Er7Ty0Ui3Op6As9Df>\n"
    )
    form = archive(post(body))
    assert "> We see scans from 192.0.2.66." in form.text
    for leak in ("6f2Yx0Qa9", "Zx81Qw4Er7Ty", "lists.example/u/", "need-to-know"):
        assert leak not in form.text


def test_case_60_our_link_inside_a_link_wrapper_is_stripped(archive: Archiver) -> None:
    wrapped = (
        "https://eur01.safelinks.protection.outlook.com/?url=https%3A%2F%2Flists.example%2Fu%2F"
        "6f2Yx0Qa9LbK7&data=05%7C02%7C%7C&reserved=0"
    )
    form = archive(post(f"Blocked 192.0.2.66.\n\n> Unsubscribe: {wrapped}\n"))
    assert "6f2Yx0Qa9LbK7" not in everything_readable(form)


# --- server-side rules and failure: cases 61-64 --------------------------------


def test_case_61_auto_replies_and_reports_are_recognised() -> None:
    """Pure part of case 61. Neither distributing nor archiving them is the pipeline's
    job (listserv/posting_policy.py), covered by tests/test_archive_e2e.py (the lead's)."""
    assert is_auto_reply(eml("exchange_out_of_office.eml"))
    assert is_auto_reply(eml("postfix_dsn_user_unknown.eml"))
    assert not is_auto_reply(eml("outlook_exchange_online_de_reply.eml"))
    assert not is_auto_reply(post(subject="Out of office hours incident response"))
    assert is_auto_reply(post(headers=[("Auto-Submitted", "auto-replied; owner-email=x")]))
    assert not is_auto_reply(post(headers=[("Auto-Submitted", "no")]))
    assert is_auto_reply(post(headers=[("Precedence", "junk")]))
    assert is_auto_reply(post(headers=[("X-Autoreply", "yes")]))
    assert is_auto_reply(post(subject="Abwesenheitsnotiz: TR-069 scanning"))
    assert is_auto_reply(post(subject="Réponse automatique : TR-069"))
    assert is_auto_reply(post(headers=[("Return-Path", "<>")]))


def test_case_61_a_dsn_if_ever_archived_keeps_no_member(archive: Archiver) -> None:
    form = archive(eml("postfix_dsn_user_unknown.eml"))
    assert "Status: 5.1.1" in form.text
    assert "mueller" not in form.text.lower()


def test_case_62_red_is_never_archived_and_replies_do_not_dangle(
    archive: Archiver, matcher: RegistryMatcher
) -> None:
    """Pure part of case 62. That a RED post is distributed and gets no pseudonym is the
    server's (tests/test_archive_e2e.py, the lead's)."""
    red = post(subject="[TLP:RED] core outage details")
    red_form = archive_form(red, matcher, make_ctx(label="TLP:RED"))
    assert red_form.hold_reason == "TLP:RED is never archived"
    assert red_form.message == b""
    assert red_form.text == ""
    reply = post(
        subject="Re: core outage details",
        headers=[
            ("In-Reply-To", "<a1b2c3@mail.operator-a.example>"),
            ("References", "<a1b2c3@mail.operator-a.example>"),
        ],
    )
    reply.replace_header("Message-ID", "<reply1@mail.betreiber-b.example>")
    form = archive(reply, make_ctx(author_key="jurgen", participants={"jurgen": "Participant A"}))
    assert form.in_reply_to is None
    assert form.references == ()
    assert reparsed(form)["In-Reply-To"] is None
    assert reparsed(form)["References"] is None


def test_case_63_two_threads_share_no_value(archive: Archiver) -> None:
    """Labels come from the server's per-thread map (ctx.participants); the forms of
    Alice's posts in two threads share no id, boundary or label beyond the list's own."""
    first = post("Thread one: scans from 192.0.2.66.\n", subject="Scans")
    first = with_attachment(first, samples.pdf_report(), "application/pdf", "a.pdf")
    second = post("Thread two: phishing from evil-invoice.example.\n", subject="Phishing")
    second.replace_header("Message-ID", "<other@mail.operator-a.example>")
    second = with_attachment(second, samples.pdf_report(), "application/pdf", "a.pdf")
    form_one = archive(first, make_ctx(participants={"alice": "Participant A"}))
    form_two = archive(
        second,
        make_ctx(participants={"jurgen": "Participant A", "alice": "Participant B"}),
    )
    one, two = reparsed(form_one), reparsed(form_two)
    assert str(one["From"]).startswith("Participant A")
    assert str(two["From"]).startswith("Participant B")
    assert one["Message-ID"] != two["Message-ID"]
    assert one.get_boundary() != two.get_boundary()
    shared = set(re.findall(r"[A-Za-z0-9=_]{16,}", archived_bytes(form_one))) & set(
        re.findall(r"[A-Za-z0-9=_]{16,}", archived_bytes(form_two))
    )
    # Only the identical attachment's own bytes may repeat.
    attachment_text = base64.encodebytes(form_one.attachments[0].data).decode()
    assert all(token in attachment_text for token in shared)


def test_case_64_unparseable_mime_tree_is_held(archive: Archiver, matcher: RegistryMatcher) -> None:
    broken = raw_message(
        "From: " + samples.ALICE_FROM + "\nTo: ciso@lists.example\nSubject: broken\n"
        "Content-Type: multipart/mixed\n\n--nothing\nContent-Type: text/plain\n\n"
        "Alice Müller, Operator A GmbH\n--nothing--\n"
    )
    form = archive_form(broken, matcher, make_ctx())
    assert form.hold_reason == "the MIME structure cannot be parsed"


def test_case_64_deep_nesting_is_held(matcher: RegistryMatcher) -> None:
    inner = b"Content-Type: text/plain\n\nAlice M\xc3\xbcller\n"
    for depth in range(40):
        inner = (
            f'Content-Type: multipart/mixed; boundary="b{depth}"\n\n--b{depth}\n'.encode()
            + inner
            + f"\n--b{depth}--\n".encode()
        )
    form = archive_form_or_hold(b"From: x@y\nSubject: deep\n" + inner, matcher, make_ctx())
    assert form.hold_reason
    assert b"M\xc3\xbcller" not in form.message


def test_case_64_scrubber_exception_is_held_and_nothing_is_archived_raw(
    registry: Registry, matcher: RegistryMatcher
) -> None:
    raw = post("Alice Müller, Operator A GmbH: 192.0.2.66\n").as_bytes()
    naive = make_ctx(received_at=datetime(2024, 9, 3, 8, 1))  # not timezone-aware: raises
    form = archive_form_or_hold(raw, matcher, naive)
    assert form.hold_reason is not None
    assert form.hold_reason.startswith("the archive form could not be built")
    assert form.message == b""
    assert form.text == ""
    assert form.attachments == ()
    assert FlagKind.SCRUB_ERROR in flag_kinds(form)
    assert "Müller" not in form.hold_reason
    assert_nothing_leaked(form.message, registry)
