"""Segmentation of reply structure (filters/reply_structure.py, CHATHAM_HOUSE.md §2.5 and §4)."""

from __future__ import annotations

import time

import pytest

from filters.reply_patterns import FieldRole
from filters.reply_structure import (
    MAX_QUOTE_DEPTH,
    REMOVED_KINDS,
    Segment,
    SegmentKind,
    looks_like_name,
    looks_like_signature,
    segment,
    walk,
)

K = SegmentKind


def kinds(text: str) -> list[SegmentKind]:
    """Top-level kinds, blank-only text segments left out."""
    return [
        s.kind for s in segment(text) if s.kind not in (K.TEXT, K.QUOTED_TEXT) or s.text.strip()
    ]


def of_kind(text: str, kind: SegmentKind) -> list[Segment]:
    return [s for s in walk(segment(text)) if s.kind is kind]


def kept_text(text: str) -> str:
    """The text of TEXT and QUOTED_TEXT segments at every depth."""
    return "\n".join(s.text for s in walk(segment(text)) if s.kind in (K.TEXT, K.QUOTED_TEXT))


# --- Reply attribution lines ---------------------------------------------------------------------

ATTRIBUTIONS = {
    "en-gmail": "On Tue, 3 Sep 2024 at 10:01, Alice Müller <alice@operator-a.example> wrote:",
    "en-thunderbird": "On 03/09/2024 10:01, Alice wrote:",
    "en-outlook-mac": 'On 03/09/2024, 10:01, "Alice Müller" <alice@operator-a.example> wrote:',
    "de-thunderbird": "Am 03.09.2024 um 10:01 schrieb Alice:",
    "de-gmail": "Alice <alice@operator-a.example> schrieb am Di., 3. Sept. 2024, 10:01:",
    "de-gmail-am": "Am Di., 3. Sept. 2024 um 10:01 Uhr schrieb Jürgen Müller "
    "<jm@betreiber-b.example>:",
    "fr-gmail": "Le mar. 3 sept. 2024 à 10:01, Alice <alice@operator-a.example> a écrit :",
    "fr-nbsp": "Le mar. 3 sept. 2024 à 10:01, Alice <alice@operator-a.example> a écrit\u00a0:",
    "fr-thunderbird": "Le 03/09/2024 à 10:01, José Martin a écrit :",
    "es-gmail": "El mar, 3 sept 2024 a las 10:01, Alice (<alice@operator-a.example>) escribió:",
    "es-thunderbird": "El 3/9/24 a las 10:01, José García escribió:",
    "it-gmail": "Il giorno mar 3 set 2024 alle ore 10:01 Alice <alice@operator-a.example> "
    "ha scritto:",
    "it-thunderbird": "Il 03/09/2024 10:01, Giulia Rossi ha scritto:",
    "nl-gmail": "Op di 3 sep. 2024 om 10:01 schreef Alice <alice@operator-a.example>:",
    "pt-gmail": "Em ter., 3 de set. de 2024 às 10:01, Alice <alice@operator-a.example> escreveu:",
    "pt-thunderbird": "Às 10:01 de 03/09/2024, João Silva escreveu:",
    "pl-gmail": "W dniu wt., 3.09.2024 o 10:01 Alice <alice@operator-a.example> napisał(a):",
    "pl-thunderbird": "W dniu 03.09.2024 o 10:01, Jan Kowalski pisze:",
    "sv-gmail": "Den tis 3 sep. 2024 kl 10:01 skrev Alice <alice@operator-a.example>:",
    "da-gmail": "Den tir. 3. sep. 2024 kl. 10.01 skrev Alice <alice@operator-a.example>:",
    "horde-quoting": "Quoting Alice <alice@operator-a.example>:",
    "de-zitat": "Zitat von Alice <alice@operator-a.example>:",
    "lotus-notes": "Alice Müller/OperatorA/DE wrote on 03.09.2024 10:01:",
    "old-gmail-dated": "2024-09-03 10:01 GMT+02:00 Alice <alice@operator-a.example>:",
}


@pytest.mark.parametrize("line", ATTRIBUTIONS.values(), ids=ATTRIBUTIONS.keys())
def test_attribution_lines_in_every_language(line: str) -> None:
    text = f"Agreed, patch now.\n\n{line}\n> We see CVE-2024-3400 exploited.\n"
    segments = [s for s in segment(text) if s.text.strip()]
    assert [s.kind for s in segments] == [K.TEXT, K.ATTRIBUTION, K.QUOTE]
    assert segments[1].lines == (line,)
    assert segments[2].children[0].lines == ("We see CVE-2024-3400 exploited.",)


WRAPPED = {
    "gmail-en": "On Tue, 3 Sep 2024 at 10:01, Alice Müller <\nalice@operator-a.example> wrote:",
    "gmail-en-name": "On Tue, 3 Sep 2024 at 10:01, Alice Müller\n<alice@operator-a.example> wrote:",
    "gmail-fr": "Le mar. 3 sept. 2024 à 10:01, José Martin <jose.martin@operateur-c.example> a\n"
    "écrit :",
    "gmail-de": "Am Di., 3. Sept. 2024 um 10:01 Uhr schrieb Jürgen Müller <\n"
    "jm@betreiber-b.example>:",
    "three-lines": "On Tue, 3 Sep 2024 at 10:01,\nAlice Müller\n<alice@operator-a.example> wrote:",
}


def test_wrapped_attribution_starts_at_its_own_intro() -> None:
    text = (
        "On this day\nOn Tue, 3 Sep 2024 at 10:01, Alice <\nalice@operator-a.example> wrote:\n> q\n"
    )
    (attribution,) = of_kind(text, K.ATTRIBUTION)
    assert attribution.lines[0].startswith("On Tue")
    assert "On this day" in kept_text(text)


@pytest.mark.parametrize("lines", WRAPPED.values(), ids=WRAPPED.keys())
def test_wrapped_attribution_lines(lines: str) -> None:
    segments = [s for s in segment(f"Yes.\n\n{lines}\n\n> quoted\n") if s.text.strip()]
    assert [s.kind for s in segments] == [K.TEXT, K.ATTRIBUTION, K.QUOTE]
    assert segments[1].text == lines


@pytest.mark.parametrize(
    "text",
    [
        "I wrote:\nthe patch is out.\n",  # no quote follows, no address: prose
        "The advisory says:\n> update now\n",  # no "wrote" verb
        "On Monday we patched everything.\n> did you?\n",
        "On the topic of routers.\nWe saw it too.\n",
    ],
)
def test_prose_is_not_an_attribution(text: str) -> None:
    assert not of_kind(text, K.ATTRIBUTION)


def test_own_attribution_form_is_recognised() -> None:
    (attribution,) = of_kind("Participant B wrote:\n> text\n", K.ATTRIBUTION)
    assert attribution.is_own
    (custom,) = of_kind("Speaker 7 wrote:\n\ntext\n", K.ATTRIBUTION) or [None]
    assert custom is None  # a custom label is only ours when the caller names it
    (named,) = [
        s
        for s in walk(segment("Speaker 7 wrote:\n\ntext\n", own_labels=["Speaker 7"]))
        if s.kind is K.ATTRIBUTION
    ]
    assert named.is_own


# --- Outlook header blocks and forward separators ------------------------------------------------

SENDER = "Alice Müller <alice@operator-a.example>"
HEADER_BLOCKS = {
    "en-outlook": "________________________________\nFrom: {s}\nSent: Tuesday, September 3, "
    "2024 10:01 AM\nTo: CISO list <ciso@lists.example>\nCc: Bob Brown <bob@operator-b.example>\n"
    "Subject: RE: Router campaign",
    "en-original": "-----Original Message-----\nFrom: Alice Müller "
    "[mailto:alice@operator-a.example]\nSent: Tuesday, September 3, 2024 10:01 AM\n"
    "To: ciso@lists.example\nSubject: RE: Router campaign",
    "de-outlook": "Von: {s}\nGesendet: Dienstag, 3. September 2024 10:01\nAn: CISO-Liste "
    "<ciso@lists.example>\nCc: Jürgen Müller <jm@betreiber-b.example>\n"
    "Betreff: AW: Router campaign",
    "de-original": "-----Ursprüngliche Nachricht-----\nVon: {s}\nGesendet: Dienstag, 3. September "
    "2024 10:01\nAn: ciso@lists.example\nBetreff: AW: Router campaign",
    "fr-nbsp": "De\u00a0: {s}\nEnvoyé\u00a0: mardi 3 septembre 2024 10:01\nÀ\u00a0: "
    "ciso@lists.example\nCc\u00a0: Bob Brown\nObjet\u00a0: RE: Router campaign",
    "fr-space": "-----Message d'origine-----\nDe : {s}\nEnvoyé : mardi 3 septembre 2024 10:01\n"
    "À : ciso@lists.example\nObjet : RE: Router campaign",
    "es-enviado-el": "De: {s}\nEnviado el: martes, 3 de septiembre de 2024 10:01\nPara: "
    "ciso@lists.example\nCC: Bob Brown\nAsunto: RE: Router campaign",
    "es-enviado": "-----Mensaje original-----\nDe: {s}\nEnviado: martes, 3 de septiembre de 2024 "
    "10:01\nPara: ciso@lists.example\nAsunto: RE: Router campaign",
    "it-inviato": "Da: {s}\nInviato: martedì 3 settembre 2024 10:01\nA: ciso@lists.example\n"
    "Cc: Bob Brown\nOggetto: R: Router campaign",
    "it-original": "-----Messaggio originale-----\nDa: {s}\nInviato: martedì 3 settembre 2024 "
    "10:01\nA: ciso@lists.example\nOggetto: R: Router campaign",
    "nl-outlook": "-----Oorspronkelijk bericht-----\nVan: {s}\nVerzonden: dinsdag 3 september "
    "2024 10:01\nAan: ciso@lists.example\nOnderwerp: RE: Router campaign",
    "pt-outlook": "-----Mensagem original-----\nDe: {s}\nEnviada em: terça-feira, 3 de setembro "
    "de 2024 10:01\nPara: ciso@lists.example\nAssunto: RE: Router campaign",
    "apple-forward": "Begin forwarded message:\n\nFrom: {s}\nSubject: Router campaign\n"
    "Date: 3 September 2024 at 10:01:07 CEST\nTo: ciso@lists.example",
    "gmail-forward": "---------- Forwarded message ---------\nFrom: *Alice Müller* "
    "<alice@operator-a.example>\nDate: Tue, 3 Sep 2024 at 10:01\nSubject: Router campaign\n"
    "To: <ciso@lists.example>",
    "thunderbird-de": "-------- Weitergeleitete Nachricht --------\nBetreff: \tRouter campaign\n"
    "Datum: \tTue, 3 Sep 2024 10:01:07 +0200\nVon: \t{s}\nAn: \tciso@lists.example",
    "thunderbird-fr": "-------- Message transféré --------\nSujet : Router campaign\nDate : "
    "Tue, 3 Sep 2024 10:01:07 +0200\nDe : {s}\nPour : ciso@lists.example",
    "gmail-es": "---------- Mensaje reenviado ---------\nDe: {s}\nDate: mar, 3 sept 2024 a las "
    "10:01\nSubject: Router campaign\nTo: <ciso@lists.example>",
    "gmail-it": "---------- Messaggio inoltrato ---------\nDa: {s}\nDate: mar 3 set 2024 alle "
    "ore 10:01\nSubject: Router campaign\nTo: <ciso@lists.example>",
    "bold-html": "*From:* {s}\n*Sent:* Tuesday, September 3, 2024 10:01 AM\n*To:* "
    "ciso@lists.example\n*Subject:* RE: Router campaign",
    "one-line": "From: {s} Sent: Tuesday, September 3, 2024 10:01 AM To: ciso@lists.example "
    "Subject: RE: Router campaign",
    "gmail-dashes": "------------------------------\n*From:* {s}\n*Sent:* Saturday, June 1, "
    "2024 10:13 AM\n*To:* list\n*Subject:* [EXTERNAL] Re: Router campaign",
    "wrapped-to": "From: {s}\nSent: Tuesday, September 3, 2024 10:01 AM\nTo: a@x.example;\n"
    " b@y.example; c@z.example\nSubject: RE: Router campaign",
}


@pytest.mark.parametrize("block", HEADER_BLOCKS.values(), ids=HEADER_BLOCKS.keys())
def test_header_blocks_in_every_language(block: str) -> None:
    block = block.format(s=SENDER)
    text = f"We patched all edge routers.\n\n{block}\n\nHas anyone seen this campaign?\n"
    segments = [s for s in segment(text) if s.text.strip()]
    assert [s.kind for s in segments] == [K.TEXT, K.HEADER_BLOCK, K.QUOTED_TEXT]
    header = segments[1]
    assert header.text == block
    assert "alice@operator-a.example" in (header.field(FieldRole.FROM) or "")
    assert "Router campaign" in (header.field(FieldRole.SUBJECT) or "")
    assert header.field(FieldRole.SENT) is not None
    assert segments[2].text.strip() == "Has anyone seen this campaign?"


@pytest.mark.parametrize(
    "separator",
    [
        "-----Original Message-----",
        "----- Original Message -----",
        "-----Ursprüngliche Nachricht-----",
        "-----Message d'origine-----",
        "-----Mensaje original-----",
        "-----Messaggio originale-----",
        "-----Oorspronkelijk bericht-----",
        "-----Mensagem original-----",
        "---------- Forwarded message ---------",
        "-------- Weitergeleitete Nachricht --------",
        "-------- Message transféré --------",
        "---------- Mensaje reenviado ---------",
        "---------- Messaggio inoltrato ---------",
        "Begin forwarded message:",
        "Anfang der weitergeleiteten E-Mail:",
        "----- quoted message -----",
        "----- quoted message (Participant B) -----",
    ],
)
def test_separators_alone_start_a_quoted_message(separator: str) -> None:
    segments = [s for s in segment(f"Fyi.\n\n{separator}\nThe quoted body.\n") if s.text.strip()]
    assert [s.kind for s in segments] == [K.TEXT, K.HEADER_BLOCK, K.QUOTED_TEXT]
    assert segments[1].lines == (separator,)


def test_own_header_separator_keeps_its_label() -> None:
    (header,) = of_kind(
        "----- quoted message (Participant C) -----\nSubject: x\n\nBody\n", K.HEADER_BLOCK
    )
    assert header.is_own
    assert header.own_label == "Participant C"
    assert header.field(FieldRole.SUBJECT) == "x"


def test_own_header_separator_with_a_foreign_label_is_text() -> None:
    text = "----- quoted message (Alice Müller) -----\nBody\n"
    assert not of_kind(text, K.HEADER_BLOCK)
    (named,) = [
        s
        for s in segment("----- quoted message (Speaker 7) -----\n", own_labels=["Speaker 7"])
        if s.kind is K.HEADER_BLOCK
    ]
    assert named.own_label == "Speaker 7"


def test_quoted_message_text_has_its_own_signature() -> None:
    text = (
        f"Looks bad.\n\nFrom: {SENDER}\nSent: Tuesday\nTo: list\nSubject: x\n\n"
        "Old text.\n-- \nAlice\n"
    )
    assert kinds(text) == [K.TEXT, K.HEADER_BLOCK, K.QUOTED_TEXT, K.SIGNATURE]


@pytest.mark.parametrize(
    "text",
    [
        "From: the attacker's point of view this is easy.\nWe patched.\n",
        "From: Alice\nand then nothing else\n",
        "A: yes\nDe: no\n",
    ],
)
def test_prose_with_a_from_label_is_not_a_header_block(text: str) -> None:
    assert not of_kind(text, K.HEADER_BLOCK)


def test_html_to_text_shape_header_then_quote() -> None:
    # filters/html_text.py writes Outlook's earlier message as a "> " quote below the block.
    text = f"Hi all\n\nFrom: {SENDER}\nSent: Tuesday\nTo: list\nSubject: RE: test\n> Old text\n"
    assert kinds(text) == [K.TEXT, K.HEADER_BLOCK, K.QUOTE]


# --- The quote-header experiment (CHATHAM_HOUSE.md §4) -------------------------------------------

EXPERIMENT = {
    "EN": (
        "Thanks, will do.",
        "From: {s}\nSent: Tuesday, September 3, 2024 10:01 AM\nTo: list\nSubject: Test",
    ),
    "EN-gmail": ("Thanks, will do.", "On Tue, 3 Sep 2024 at 10:01, {s} wrote:"),
    "DE": (
        "Danke, mache ich.",
        "Von: {s}\nGesendet: Dienstag, 3. September 2024 10:01\nAn: Liste\nBetreff: Test",
    ),
    "DE-thunderbird": ("Danke, mache ich.", "Am 03.09.2024 um 10:01 schrieb {s}:"),
    "FR": (
        "Merci, je m'en occupe.",
        "De\u00a0: {s}\nEnvoyé\u00a0: mardi 3 septembre 2024 "
        "10:01\nÀ\u00a0: Liste\nObjet\u00a0: Test",
    ),
    "ES": (
        "Gracias, lo hago.",
        "De: {s}\nEnviado el: martes, 3 de septiembre de 2024 10:01\nPara: Lista\nAsunto: Test",
    ),
    "IT": (
        "Grazie, lo faccio.",
        "Da: {s}\nInviato: martedì 3 settembre 2024 10:01\nA: Lista\nOggetto: Test",
    ),
}


@pytest.mark.parametrize(("reply", "header"), EXPERIMENT.values(), ids=EXPERIMENT.keys())
def test_quote_header_experiment(reply: str, header: str) -> None:
    """Reply text separated and quoted author isolated, in every language of §4."""
    header = header.format(s=SENDER)
    quoted = (
        "> Please patch."
        if (header.endswith(":") and "wrote" in header) or "schrieb" in header
        else "Please patch."
    )
    text = f"{reply}\n\n{header}\n{quoted}\n"
    segments = [s for s in segment(text) if s.text.strip()]
    assert segments[0].kind is K.TEXT
    assert segments[0].text.strip() == reply
    structure = segments[1]
    assert structure.kind in (K.HEADER_BLOCK, K.ATTRIBUTION)
    if structure.kind is K.HEADER_BLOCK:
        assert structure.field(FieldRole.FROM) == SENDER
    else:
        assert SENDER in structure.text
    assert "Please patch." in kept_text(text)
    assert reply not in "\n".join(s.text for s in segments[1:])


# --- Signatures ----------------------------------------------------------------------------------


def test_delimited_signature_runs_to_the_next_quote() -> None:
    text = (
        "We patched.\n-- \nAlice Müller\nCISO, Operator A GmbH\nTel. +49 228 1234567\n\n"
        "On Tue, 3 Sep 2024 at 10:01, Bob <bob@operator-b.example> wrote:\n> Did you patch?\n"
    )
    assert kinds(text) == [K.TEXT, K.SIGNATURE, K.ATTRIBUTION, K.QUOTE]
    (signature,) = of_kind(text, K.SIGNATURE)
    assert signature.lines[0] == "-- "
    assert "Tel. +49 228 1234567" in signature.lines


@pytest.mark.parametrize("delimiter", ["-- ", "--", "--  ", "__________", "_" * 32])
def test_signature_delimiters(delimiter: str) -> None:
    assert kinds(f"Text.\n{delimiter}\nAlice\nOperator A\n") == [K.TEXT, K.SIGNATURE]


@pytest.mark.parametrize("line", ["-- not a delimiter", "---", "text --", "_____"])
def test_not_signature_delimiters(line: str) -> None:
    assert kinds(f"Text.\n{line}\nmore text\n") == [K.TEXT]


def test_rule_before_indicators_is_not_a_signature() -> None:
    text = "New indicators:\n--\n198.51.100.7\nevil-c2.example\n"
    assert kinds(text) == [K.TEXT]


UNDELIMITED = {
    "en": "Best regards,\nAlice Müller\nCISO | Operator A GmbH\n+49 228 1234567",
    "en-kind": "Kind regards\n\nBob Brown\nHead of Security Operations\nM: +44 7700 900123",
    "en-web": "Kind regards\nBob Brown\nwww.operator-b.example | bob@operator-b.example",
    "en-thanks-name": "Thanks, Alice",
    "en-cheers": "Cheers\nBob",
    "de": "Mit freundlichen Grüßen\nJürgen Müller",
    "de-viele": "Viele Grüße aus Bonn\nJürgen",
    "de-lg": "LG\nJürgen",
    "de-caps": "MIT FREUNDLICHEN GRÜSSEN\nJürgen Müller\nBetreiber B",
    "fr": "Cordialement,\nJosé Martin",
    "fr-bien": "Bien à vous,\nJosé Martin\nOpérateur C\n12 rue de la Paix, 75002 Paris",
    "es": "Saludos,\nJosé García",
    "es-atentamente": "Atentamente,\nJosé García\nTel: +34 91 123 45 67",
    "it": "Cordiali saluti\nGiulia Rossi",
    "it-company": "Cordiali saluti\nGiulia Rossi\nSecurity Operations | Gestore E S.p.A.\n"
    "+39 06 1234 5678",
    "nl": "Met vriendelijke groet,\nPieter de Vries",
    "pt": "Com os melhores cumprimentos,\nJoão Silva",
    "pl": "Pozdrawiam,\nJan Kowalski",
    "sv": "Med vänlig hälsning\nAnna Svensson",
    "da": "Venlig hilsen\nMette Hansen",
    "el": "Με εκτίμηση,\nΙωάννης Παπαδόπουλος",
    "ru": "С уважением,\nДмитрий Иванов",
    "bilingual": "Best regards / Mit freundlichen Grüßen\nJürgen Müller",
}


@pytest.mark.parametrize("signature", UNDELIMITED.values(), ids=UNDELIMITED.keys())
def test_undelimited_signatures(signature: str) -> None:
    text = f"We saw the scan from 198.51.100.7 too.\n\n{signature}\n"
    found = kinds(text)
    assert found[:2] == [K.TEXT, K.CLOSING_SIGNATURE]
    assert set(found[2:]) <= REMOVED_KINDS  # an address line in the block is an imprint too
    assert "198.51.100.7" in kept_text(text)
    assert signature.splitlines()[0] not in kept_text(text)


def test_two_closings_both_go() -> None:
    text = "Patched.\n\nCheers,\nBob\n\nBest regards,\nAlice Müller\n"
    assert kinds(text) == [K.TEXT, K.CLOSING_SIGNATURE]
    assert kept_text(text).strip() == "Patched."


def test_links_after_a_closing_are_kept_unless_they_are_a_members() -> None:
    text = "Patched.\n\nCheers\nBob\n\n[1] https://evil-c2.example/report\n"
    assert kinds(text) == [K.TEXT, K.POSSIBLE_SIGNATURE]  # kept, for a moderator to look at
    home_page = "Patched.\n\nKind regards\nBob\nwww.operator-b.example\n"
    assert kinds(home_page) == [K.TEXT, K.CLOSING_SIGNATURE]  # contact detail, not an indicator
    member = "Patched.\n\nKind regards\nBob\nhttps://www.operator-b.example/en/contact\n"
    assert kinds(member) == [K.TEXT, K.POSSIBLE_SIGNATURE]
    known = segment(member, registry_hit=lambda text: "operator-b" in text)
    assert [s.kind for s in known if s.text.strip()] == [K.TEXT, K.CLOSING_SIGNATURE]


def test_closing_with_unidentifying_block_is_kept_and_marked() -> None:
    text = "Patched.\n\nThanks!\nthe usual caveats apply\n"
    assert kinds(text) == [K.TEXT, K.POSSIBLE_SIGNATURE]


@pytest.mark.parametrize(
    "text",
    [
        "Thanks,\nI will check the logs tomorrow and report back.\n",  # prose after the closing
        "Thanks,\nAlice\n\nP.S. the C2 is at 198.51.100.7\n",  # a postscript
        "Cheers\nAlice\n198.51.100.7\n",  # an indicator
        "Thanks for the quick analysis, we see the same.\n",  # not a closing line
        "Regards\n",  # nothing after it
        "Best practice is to rotate keys.\nAlice\n",
        # a sentence after the name: content, not a signature
        "Regards,\nAlice\n\nUpdate: we also saw it in Vienna, with the same loader.\n",
    ],
)
def test_not_undelimited_signatures(text: str) -> None:
    assert not of_kind(text, K.CLOSING_SIGNATURE)
    assert not of_kind(text, K.POSSIBLE_SIGNATURE)


def test_registry_hit_decides_about_the_block() -> None:
    text = "Patched.\n\nThanks!\nthe usual caveats apply\n"
    assert kinds(text) == [K.TEXT, K.POSSIBLE_SIGNATURE]
    strict = segment(text, registry_hit=lambda text: "caveats" in text)
    assert [s.kind for s in strict if s.text.strip()] == [K.TEXT, K.CLOSING_SIGNATURE]


def test_contact_block_without_closing() -> None:
    text = "Patched.\n\nAlice Müller\nHead of CERT\nOperator A GmbH\nT +49 228 1234567\n"
    assert kinds(text) == [K.TEXT, K.CONTACT_BLOCK]
    named = "Patched.\n\nAlice\nOperator A GmbH\n"
    assert kinds(named) == [K.TEXT]  # patterns alone: no contact detail
    registry = segment(named, registry_hit=lambda text: "Operator A" in text)
    assert [s.kind for s in registry if s.text.strip()] == [K.TEXT, K.CONTACT_BLOCK]
    bare = "Landing page: http://evil-invoice.example/pay\n\nAlice\n"
    assert kinds(bare) == [K.TEXT]  # a name alone: only when the registry knows it
    known = segment(bare, registry_hit=lambda text: text == "Alice")
    assert [s.kind for s in known if s.text.strip()] == [K.TEXT, K.CONTACT_BLOCK]


@pytest.mark.parametrize(
    "text",
    [
        "Hi Bob,\nplease call +49 228 1234567\n",  # a greeting, and the whole message
        "Patched.\n\nPalo Alto\nFortinet\n",  # vendor names, no contact detail
        "Patched.\n\nBob\nsee https://evil-c2.example/x\n",  # a URL may be an indicator
        "Patched.\n\nAlice\n198.51.100.7\n",  # an indicator
        "Alice Müller\n+49 228 1234567\n",  # nothing before it
        "Patched.\n\nAlice Müller\nWe will send the full report to the list tomorrow.\n",
    ],
)
def test_not_contact_blocks(text: str) -> None:
    assert not of_kind(text, K.CONTACT_BLOCK)


@pytest.mark.parametrize(
    ("line", "is_name"),
    [
        ("Alice", True),
        ("J. Müller", True),
        ("José de la Cruz", True),
        ("CISO", True),
        ("/Anna", True),
        ("the usual caveats apply", False),
        ("Head of Security", False),
        ("Alice Bob Carol Dave", False),
        ("198.51.100.7", False),
    ],
)
def test_looks_like_name(line: str, is_name: bool) -> None:
    assert looks_like_name(line) is is_name


def test_pattern_judge() -> None:
    assert looks_like_signature("Thanks,", ["Tel. 030/1234567"])
    assert looks_like_signature("Thanks,", ["https://operator-a.example"])
    assert looks_like_signature("Thanks, Alice", [])
    assert looks_like_signature("Thanks,", ["[participant]"])
    assert not looks_like_signature("Thanks,", ["the usual caveats apply"])


# --- Device lines --------------------------------------------------------------------------------

DEVICE_LINES = [
    "Sent from my iPhone",
    "Sent from my Galaxy",
    "Sent from my Samsung Galaxy smartphone.",
    "Get Outlook for iOS",
    "Get Outlook for Android<https://aka.ms/ghei36>",
    "Sent from Mail for Windows",
    "Sent from Outlook for iOS",
    "Von meinem iPhone gesendet",
    "Gesendet von meinem iPad",
    "Gesendet mit der WEB.DE Mail App",
    "Envoyé de mon iPhone",
    "Envoyé depuis mon mobile",
    "Enviado desde mi iPhone",
    "Enviado desde mi teléfono Android",
    "Inviato da iPhone",
    "Inviato dal mio smartphone Samsung Galaxy.",
    "Verzonden vanaf mijn iPhone",
    "Enviado do meu iPhone",
    "Wysłane z mojego iPhone'a",
    "Skickat från min iPhone",
    "Sendt fra min iPhone",
]


@pytest.mark.parametrize("line", DEVICE_LINES)
def test_device_lines(line: str) -> None:
    text = f"Patch CVE-2024-3400 now.\n\n{line}\n"
    assert kinds(text) == [K.TEXT, K.DEVICE]


def test_device_line_inside_a_quote() -> None:
    text = "Yes.\n\n> Patch now.\n>\n> Von meinem iPhone gesendet\n"
    (quote,) = of_kind(text, K.QUOTE)
    assert [s.kind for s in quote.children if s.text.strip()] == [K.TEXT, K.DEVICE]


@pytest.mark.parametrize(
    "line", ["Sent from my home office, so expect delays.", "Inviato da Giulia ieri sera"]
)
def test_sentences_are_not_device_lines(line: str) -> None:
    assert kinds(f"{line}\nMore.\n") == [K.TEXT]


# --- Disclaimers and banners ---------------------------------------------------------------------

DISCLAIMERS = {
    "en": "This e-mail and any attachments are confidential and may be privileged. If you are "
    "not the intended recipient, please notify the sender and delete it.",
    "en-info": "The information contained in this message is intended solely for the addressee "
    "and may contain confidential information.",
    "de": "Diese E-Mail enthält vertrauliche und/oder rechtlich geschützte Informationen. Wenn "
    "Sie nicht der richtige Adressat sind, informieren Sie bitte sofort den Absender.",
    "fr": "Ce message et toutes les pièces jointes sont confidentiels et établis à l'intention "
    "exclusive de ses destinataires.",
    "it": "Questo messaggio e i suoi allegati sono indirizzati esclusivamente alle persone "
    "indicate e possono contenere informazioni riservate.",
    "es": "Este mensaje y sus adjuntos se dirigen exclusivamente a su destinatario y puede "
    "contener información confidencial.",
    "nl": "Dit bericht kan vertrouwelijke informatie bevatten en is uitsluitend bestemd voor "
    "de geadresseerde.",
    "pt": "Esta mensagem é confidencial e destinada exclusivamente ao destinatário.",
    "heading": "DISCLAIMER:\n\nAny views expressed are those of the author only.",
}


@pytest.mark.parametrize("disclaimer", DISCLAIMERS.values(), ids=DISCLAIMERS.keys())
def test_disclaimers(disclaimer: str) -> None:
    text = f"The C2 is evil-c2.example.\n\n{disclaimer}\n"
    assert kinds(text) == [K.TEXT, K.DISCLAIMER]
    assert "evil-c2.example" in kept_text(text)


def test_disclaimer_after_a_rule() -> None:
    text = (
        "The C2 is evil-c2.example.\n\n________________________________\n\n"
        "Diese E-Mail enthält vertrauliche Informationen.\nThis e-mail is confidential.\n"
    )
    assert kinds(text) == [K.TEXT, K.SIGNATURE]


@pytest.mark.parametrize(
    "text",
    [
        "This message is about yesterday's outage.\n",
        "Diese Nachricht betrifft den Ausfall gestern.\n",
        "Ce message concerne la panne d'hier.\n",
    ],
)
def test_ordinary_sentences_are_not_disclaimers(text: str) -> None:
    assert kinds(text) == [K.TEXT]


BANNERS = {
    "m365": "CAUTION: This email originated from outside of the organization. Do not click links "
    "or open attachments unless you recognize the sender and know the content is safe.",
    "wrapped": "CAUTION: This email originated from outside of the organization. Do not click\n"
    "links or open attachments unless you recognize the sender and know the content\nis safe.",
    "tag": "[EXTERNAL]",
    "first-contact": "You don't often get email from mallory@evil.example. Learn why this is "
    "important",
    "de": "ACHTUNG: Diese E-Mail stammt von außerhalb der Organisation. Klicken Sie nicht auf "
    "Links oder Anhänge.",
    "fr": "ATTENTION : Ce courriel provient de l'extérieur de l'organisation. Ne cliquez pas sur "
    "les liens.",
    "es": "PRECAUCIÓN: Este correo electrónico se originó fuera de la organización.",
    "it": "ATTENZIONE: questa e-mail proviene dall'esterno dell'organizzazione.",
}


@pytest.mark.parametrize("banner", BANNERS.values(), ids=BANNERS.keys())
def test_external_sender_banners(banner: str) -> None:
    text = f"{banner}\n\nHi all, the phishing wave continues.\n"
    assert kinds(text) == [K.BANNER, K.TEXT]
    assert "phishing wave" in kept_text(text)


def test_banner_with_no_blank_line_keeps_the_greeting() -> None:
    text = "[EXTERNAL]\nHi all, the phishing wave continues.\n"
    assert "Hi all, the phishing wave continues." in kept_text(text)


def test_banner_words_in_prose_are_not_a_banner() -> None:
    text = "Warning: the phishing mail came from outside, via 198.51.100.7.\n"
    assert kinds(text) == [K.TEXT]


# --- Imprint lines, addresses, fingerprints ------------------------------------------------------

IMPRINTS = [
    "Sitz der Gesellschaft: Bonn",
    "Amtsgericht Bonn HRB 6794",
    "Registergericht: Amtsgericht München, HRB 123456",
    "Vorstand: Alice Müller (Vorsitzende), Bob Brown",
    "Geschäftsführer: Jürgen Müller",
    "Aufsichtsratsvorsitzender: Dr. Hans Beispiel",
    "USt-IdNr. DE123456789",
    "VAT DE123456789",
    "Company registered in England No. 01234567",
    "Registered office: 1 Example Square, London",
    "RCS Paris B 123 456 789",
    "SIRET 123 456 789 00012",
    "P.IVA 01234567890",
    "Partita IVA 01234567890",
    "CIF: A12345678",
    "KvK 12345678",
    "Friedrich-Ebert-Allee 140, 53113 Bonn",
    "Hauptstraße 5a",
    "12 rue de la Paix, 75002 Paris",
    "Via Roma 12, 00184 Roma",
    "Calle Mayor 5, 28013 Madrid",
    "Rua Augusta, 100",
    "10 Downing Street",
    "ul. Marszałkowska 12",
]


@pytest.mark.parametrize("line", IMPRINTS)
def test_imprint_lines(line: str) -> None:
    text = f"The C2 is evil-c2.example.\n{line}\n"
    assert kinds(text) == [K.TEXT, K.IMPRINT]


def test_postcode_and_city_beside_contact_lines() -> None:
    text = "Text.\n\nOperator A GmbH\nFriedrich-Ebert-Allee 140\n53113 Bonn\nTel +49 228 1234567\n"
    assert [s.lines for s in of_kind(text, K.IMPRINT)] == [
        ("Friedrich-Ebert-Allee 140", "53113 Bonn")
    ]
    assert kinds("Text.\nD-53113 Bonn\n") == [K.TEXT, K.IMPRINT]


@pytest.mark.parametrize(
    "line",
    [
        "They exfiltrated via DNS 53, then via HTTPS 443.",
        "8443 HTTPS",
        "The ring 0 exploit dates from 2024.",
        "Via VPN to 198.51.100.7",
        "10 hosts on the road",
        "2 place holders remain",
    ],
)
def test_indicators_are_not_imprints(line: str) -> None:
    assert kinds(f"Findings:\n{line}\nEnd.\n") == [K.TEXT]


def test_key_fingerprints() -> None:
    text = (
        "Signed.\nKey fingerprint = 1234 5678 9ABC DEF0 1234  5678 9ABC DEF0 1234 5678\n"
        "PGP: 0x1234ABCD5678EF90\n"
    )
    assert [s.kind for s in of_kind(text, K.KEY_FINGERPRINT)] == [K.KEY_FINGERPRINT]
    # A SHA-1 indicator is not a fingerprint line.
    assert kinds("Hash:\nda39a3ee5e6b4b0d3255bfef95601890afd80709\n") == [K.TEXT]


# --- PGP armour ----------------------------------------------------------------------------------

CLEARSIGNED = (
    "-----BEGIN PGP SIGNED MESSAGE-----\n"
    "Hash: SHA256\n"
    "\n"
    "Block 198.51.100.7 now.\n"
    "- -- \n"  # a dash-escaped signature delimiter (RFC 4880 §7.1)
    "- - a dashed list item\n"
    "-----BEGIN PGP SIGNATURE-----\n"
    "\n"
    "iQEzBAEBCAAdFiEEabcdefabcdefabcdefabcdefabcdefabcdefab\n"
    "=abcd\n"
    "-----END PGP SIGNATURE-----\n"
)


def test_clearsigned_text_is_unwrapped_and_unescaped() -> None:
    segments = [s for s in segment(CLEARSIGNED) if s.text.strip()]
    assert [s.kind for s in segments] == [K.PGP_ARMOUR, K.TEXT, K.SIGNATURE, K.PGP_ARMOUR]
    assert segments[0].lines == ("-----BEGIN PGP SIGNED MESSAGE-----", "Hash: SHA256", "")
    assert segments[1].lines == ("Block 198.51.100.7 now.",)
    assert segments[2].lines == ("-- ", "- a dashed list item")  # RFC 4880 §7.1 unescaped
    assert segments[3].lines[-1] == "-----END PGP SIGNATURE-----"


def test_key_blocks_and_encrypted_messages() -> None:
    text = (
        "My key:\n-----BEGIN PGP PUBLIC KEY BLOCK-----\n\nmQENBGabc\n=xyz1\n"
        "-----END PGP PUBLIC KEY BLOCK-----\nAnd a secret:\n-----BEGIN PGP MESSAGE-----\n\nhQEM\n"
        "-----END PGP MESSAGE-----\nEnd.\n"
    )
    assert kinds(text) == [K.TEXT, K.PGP_KEY, K.TEXT, K.PGP_ARMOUR, K.TEXT]


def test_unterminated_key_block_runs_to_the_end() -> None:
    assert kinds("x\n-----BEGIN PGP PUBLIC KEY BLOCK-----\nmQENB\nmore\n") == [K.TEXT, K.PGP_KEY]


def test_quoted_clearsigned_message() -> None:
    quoted = "\n".join("> " + line if line else ">" for line in CLEARSIGNED.splitlines())
    (quote,) = [s for s in segment(f"Seen.\n\n{quoted}\n") if s.kind is K.QUOTE]
    assert [s.kind for s in quote.children if s.text.strip()] == [
        K.PGP_ARMOUR,
        K.TEXT,
        K.SIGNATURE,
        K.PGP_ARMOUR,
    ]


# --- Quotes --------------------------------------------------------------------------------------


def test_nested_quotes_are_segmented_at_every_depth() -> None:
    text = (
        "Top.\n\n> Middle.\n> -- \n> Bob\n>\n> > Deep.\n> > Mit freundlichen Grüßen\n"
        "> > Jürgen Müller\n"
    )
    (quote,) = [s for s in segment(text) if s.kind is K.QUOTE]
    assert [s.kind for s in quote.children if s.text.strip()] == [K.TEXT, K.SIGNATURE, K.QUOTE]
    inner = quote.children[-1]
    assert [s.kind for s in inner.children if s.text.strip()] == [K.TEXT, K.CLOSING_SIGNATURE]


def test_blank_lines_between_quoted_lines_belong_to_the_quote() -> None:
    text = "> one\n\n> two\n\nmine\n"
    segments = [s for s in segment(text) if s.text.strip()]
    assert [s.kind for s in segments] == [K.QUOTE, K.TEXT]
    assert segments[0].lines == ("> one", "", "> two")


def test_quote_depth_is_bounded() -> None:
    text = ">" * 5000 + " deep\n"
    depth = 0
    segments = segment(text)
    while segments and segments[0].kind is K.QUOTE:
        depth += 1
        segments = segments[0].children
    assert depth == MAX_QUOTE_DEPTH
    assert segments[0].text.endswith("deep")


# --- Robustness ----------------------------------------------------------------------------------

PATHOLOGICAL = {
    "spaces": " " * 1_000_000,
    "one-long-line": "a" * 1_000_000,
    "wrote": "On wrote: " * 100_000,
    "quotes": "> " * 500_000,
    "blank-lines": "\n" * 1_000_000,
    "from-lines": "From: x <a@b>\n" * 70_000,
    "closings": "Best regards,\n" * 70_000,
    "delimiters": "-- \n" * 250_000,
    "dashes": "-" * 1_000_000,
    "underscores": ("_" * 40 + "\n") * 25_000,
    "attribution-wraps": "On Tue <\n" * 100_000,
    "digits": "1234 " * 200_000,
    "nbsp-colons": "De\u00a0" * 300_000 + ":",
    "pgp": "-----BEGIN PGP SIGNED MESSAGE-----\n- \n" * 40_000,
    "signatures-in-one-run": "Thanks,\nAlice\n" * 70_000,
    "contact-blocks": "Alice Müller\nTel +49 228 1234567\n\n" * 25_000,
    "disclaimer-openings": "This message\n" * 80_000,
    "folded-from": "From: x\n" + " y\n" * 300_000,
}


@pytest.mark.slow
@pytest.mark.parametrize("text", PATHOLOGICAL.values(), ids=PATHOLOGICAL.keys())
def test_segmentation_is_linear_on_pathological_input(text: str) -> None:
    started = time.perf_counter()
    segment(text)
    assert time.perf_counter() - started < 10
