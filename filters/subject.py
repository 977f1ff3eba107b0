"""The archive form's Subject (CHATHAM_HOUSE.md §2.1, case 17).

`AW: WG: [EXTERNAL] Frage von Jürgen Müller` says, besides its topic, which
language the author's client speaks, that their organisation runs a gateway
that tags external mail, and who asked. The archive keeps the topic:

1. reply and forward prefixes in many languages become `Re:` and `Fwd:`, each
   once, in the order they first appear (`AW: WG:` → `Re: Fwd:`);
2. gateway tags (`[EXTERNAL]`, `*EXTERNAL*`, `[SPAM]`), ticket tags
   (`[operator-a.example #1234]`, `[Ticket#2024…]`) and other lists' tags
   (`[mailman-users]`) are removed;
3. TLP labels are removed (the label is a header field of the archive form);
4. what is left is registry-scrubbed (`Jürgen Müller` → `[participant]`).

Normalising twice changes nothing (decision 8).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass

from filters import tlp
from filters.flags import Flag
from filters.matching import RegistryMatcher

NO_SUBJECT = "(no subject)"

# Reply prefixes. Sources: the Wikipedia list of e-mail subject abbreviations and
# the localised Outlook, Thunderbird, Apple Mail and Gmail builds.
_REPLY_WORDS = (
    "re",  # Latin "in re"; English and most clients
    "aw",  # German Antwort (Outlook)
    "antw",  # Dutch antwoord
    "antwort",
    "sv",  # Swedish/Danish/Norwegian svar
    "vs",  # Finnish vastaus
    "vá",  # Hungarian válasz
    "r",  # Italian (Outlook)
    "rif",  # Italian riferimento
    "res",  # Portuguese resposta (Outlook Brazil)
    "resp",
    "odp",  # Polish/Czech odpowiedź, odpověď
    "odg",  # Slovenian/Croatian odgovor
    "atb",  # Latvian atbilde
    "ats",  # Lithuanian atsakymas
    "ynt",  # Turkish yanıt
    "απ",  # Greek απάντηση
    "σχετ",  # Greek σχετικά
    "отв",  # Russian ответ
    "одг",  # Serbian одговор
    "回复",  # Chinese, simplified
    "答复",
    "回覆",  # Chinese, traditional
    "返信",  # Japanese
    "답장",  # Korean
    "השב",  # Hebrew
    "רד",
    "رد",  # Arabic
)
_FORWARD_WORDS = (
    "fwd",
    "fw",
    "wg",  # German weitergeleitet
    "tr",  # French transféré
    "rv",  # Spanish reenviado
    "i",  # Italian inoltrato
    "inoltro",
    "enc",  # Portuguese encaminhado
    "vb",  # Swedish vidarebefordrat
    "vl",  # Finnish välitetty
    "doorst",  # Dutch doorgestuurd
    "pd",  # Polish przekazanie dalej
    "př",  # Czech přeposláno
    "tov",  # Hungarian továbbítás
    "ilt",  # Turkish ilet
    "πρθ",  # Greek προώθηση
    "προωθ",
    "пересл",  # Russian переслано
    "转发",  # Chinese
    "轉寄",
    "轉發",
    "転送",  # Japanese
    "전달",  # Korean
    "הועבר",  # Hebrew
)


def _alternation(words: tuple[str, ...]) -> str:
    return "|".join(re.escape(word) for word in sorted(set(words), key=len, reverse=True))


# A prefix: the word, an optional counter ("Re[2]:", "Re^3:", "RE(2):"), a
# colon, possibly after a space or NBSP (French "RE :"), or a full-width colon.
_COUNTER = r"(?:\[\d+\]|\(\d+\)|\^\d+)?"
_COLON = r"[ \u00a0]?[:：]"
_PREFIX = re.compile(
    rf"^(?:(?P<re>{_alternation(_REPLY_WORDS)})|(?P<fwd>{_alternation(_FORWARD_WORDS)}))"
    rf"{_COUNTER}{_COLON}\s*",
    re.IGNORECASE,
)

# Tags security gateways and spam filters put into subjects.
_GATEWAY_WORDS = (
    r"external(?:\s+(?:sender|email|e-mail|mail|message))?",
    r"ext",
    r"extern(?:e|al|o|a)?",
    r"externe?\s+(?:mail|e-mail|absender)",
    r"caution",
    r"warning(?::[^\]]*)?",
    r"attention",
    r"achtung",
    r"spam",
    r"suspected\s+spam",
    r"possible\s+spam",
    r"probable\s+spam",
    r"spam\?",
    r"\*{1,3}spam\*{1,3}",
    r"suspicious",
    r"suspect",
    r"phish(?:ing)?\s+alert",
    r"encrypt",
    r"secure",
)
_GATEWAY_TAG = re.compile(
    r"(?:\[\s*(?:" + "|".join(_GATEWAY_WORDS) + r")\s*\]"
    r"|\(\s*(?:external|extern|ext)\s*\)"
    r"|\*{1,3}\s*(?:external|extern|spam|suspicious)\s*\*{1,3}"
    r"|^(?:external|extern|spam)\s*:)",
    re.IGNORECASE,
)
# Ticket systems: RT "[rt.example.org #1234]", OTRS/Znuny "[Ticket#2024090312000123]",
# Jira-like "[SEC-1234]" is content and stays.
_TICKET_TAG = re.compile(
    r"\[[^\[\]]{0,80}?#\s*\d+\]|\[\s*ticket\s*(?:#|no\.?|nr\.?|:)\s*\w+\s*\]", re.IGNORECASE
)
# Another list's tag at the front: one token in brackets that looks like a list
# name (lower case, or with "-", "_" or "."). Capitalised words ("[Phishing]",
# "[URGENT]") and identifiers ("[CVE-2024-3094]") are content and stay; our
# own redaction tokens ("[participant]") must survive a second pass.
_LIST_TAG = re.compile(r"^\[(?P<name>[^\[\]\s]{1,60})\]")
_CONTENT_TAG = re.compile(
    r"^(?:cve|ghsa|cwe|capec|ms\d\d|kb\d|tlp|participant|member|phone|redacted|address|link)",
    re.IGNORECASE,
)
_SPACES = re.compile(r"\s+")


@dataclass(frozen=True, slots=True)
class ArchiveSubject:
    text: str
    flags: tuple[Flag, ...]


def normalise_subject(subject: str) -> str:
    """Prefixes unified, gateway, ticket, list and TLP tags removed; no redaction."""
    text = _SPACES.sub(" ", subject.replace("\x00", " ")).strip()
    text = _SPACES.sub(" ", tlp.subject_without_labels(text)).strip()
    text = _SPACES.sub(" ", _TICKET_TAG.sub(" ", text)).strip()
    markers: list[str] = []
    while True:
        before = text
        prefix = _PREFIX.match(text)
        if prefix is not None:
            marker = "Re:" if prefix.group("re") else "Fwd:"
            if marker not in markers:
                markers.append(marker)
            text = text[prefix.end() :]
        gateway = _GATEWAY_TAG.match(text)
        if gateway is not None:
            text = text[gateway.end() :]
        listed = _LIST_TAG.match(text)
        if listed is not None and _is_list_name(listed.group("name")):
            text = text[listed.end() :]
        text = text.lstrip(" :")
        if text == before:
            break
    # Gateways also append or embed their tags.
    text = _SPACES.sub(" ", _GATEWAY_TAG.sub(" ", text)).strip()
    return " ".join([*markers, text]).strip()


def _is_list_name(name: str) -> bool:
    if _CONTENT_TAG.match(name):
        return False
    has_separator = any(ch in name for ch in "-_.")
    return has_separator or name == name.lower()


def archive_subject(
    subject: str | None, matcher: RegistryMatcher, participants: Mapping[str, str]
) -> ArchiveSubject:
    """The Subject of the archive form: normalised, then registry-scrubbed."""
    normalised = normalise_subject(subject or "")
    redacted = matcher.redact(normalised, participants, where="subject")
    text = _SPACES.sub(" ", redacted.text).strip()
    return ArchiveSubject(text or NO_SUBJECT, tuple(redacted.flags))
