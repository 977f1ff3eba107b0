"""Registry matching: find every known identity in a text (CHATHAM_HOUSE.md §5.1).

`RegistryMatcher.compile(registry)` turns every member's names, addresses,
organisation, organisation domains and aliases into *terms*, once (the server
caches the matcher per registry version). `find()` reports where they occur in
a text, `redact()` replaces them, and generic patterns come on top (decision 3):
phone numbers are always replaced; other e-mail addresses, URLs, IP addresses
and ASNs are registry hits only when they belong to a member, and are otherwise
kept, because they may be indicators of compromise, and flagged.

How a text is searched (all offsets end up in the ORIGINAL text):

1. URLs are found in the original text (`filters.url_unwrap`). Gateway wrappers
   are undone, so the recipient and tenant id inside Safe Links disappear; a
   URL under a member domain (or on a member IP prefix) becomes
   "[member organisation link]" whole, because its path identifies too; a
   `mailto:` of a member becomes the participant replacement.
2. The text is folded (`filters.normalise`): decoded, invisible characters
   dropped, whitespace collapsed, diacritics removed, case folded, other
   scripts transliterated. A second, *visual* fold maps look-alike letters
   (Cyrillic "О" in "Оperator") when the text has any.
3. The folded text is cut into word tokens, and a token trie of all terms is
   walked from every token; two tokens of a term may be separated in the text
   by up to three characters of space or light punctuation, so "J. Müller",
   "Müller, Jürgen", "Operator\\nA" and "operator-a" all match. A second trie
   holds transliteration skeletons of names ("Dmitrij Iwanow" = "Dmitry Ivanov").
4. Structured patterns run on the folded text: e-mail addresses, host names,
   IPv4/IPv6 addresses and prefixes, ASNs, PGP fingerprints, phone numbers.
5. Overlaps resolve to the longest span; flags inside a redaction vanish with
   it; person hits that agree on who is meant merge ("Jürgen M. Müller").
6. `redact()` repeats this until the text no longer changes (two passes when
   anything was replaced), so redacting its result again changes nothing.

Why a token trie (dicts keyed by folded word tokens) and not one big regex:
registry terms are whole words, so tokenising once gives Unicode word
boundaries for free and makes a text cost one dict lookup per token, whatever
the registry size. A Python `re` alternation of ~10^5 terms compiles slowly and
is tried at every character; `regex` named lists (`\\L<terms>`) hash every
candidate length at every character; pyahocorasick is not a dependency and
matches substrings, so word boundaries would have to be re-checked per hit.
Compiling 10,000 identities takes two to three seconds of CPU on the (slow,
shared) development machine; a 4 KB mail takes 1 ms without hits and about
5 ms with a dozen (two passes).

Policy for ambiguous terms (the oracle in tests/oracle.py counts name parts of
4+ letters, addresses, local parts, organisations, domains and aliases as terms
that must never survive):

- full names, surnames, initial forms ("J. Müller", "Müller, J.", "jmueller"),
  addresses, organisations, domains and aliases are redacted in any case;
- a registered first name alone is redacted when written capitalised (Title or
  UPPER case) and flagged (FIRST_NAME) in lower case or when shorter than 4
  letters (those collide with ordinary words: "mark", "bob", "ana");
- an organisation short form of up to 3 characters ("BT") is redacted only when
  written in upper case as a whole word, and flagged (ACRONYM) otherwise;
- a surname of up to 3 letters ("Li") is redacted only when capitalised;
- a role local part ("soc@", "abuse@", "info@") is no term on its own; the
  whole address still is.

The oracle counts the flagged forms (a lower-case "alice", a whole organisation
name "BT" in lower case) as leaks: those texts go to a moderator by their flag.

Replacements never contain a term and are never matched themselves (they are
masked before scanning), so redacting twice changes nothing.
"""

from __future__ import annotations

import bisect
import contextlib
import gc
import ipaddress
import re
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from enum import IntEnum, StrEnum
from functools import lru_cache
from itertools import accumulate
from typing import Literal
from urllib.parse import unquote

import phonenumbers

from filters.flags import Flag, FlagKind
from filters.identities import Identity, Registry
from filters.normalise import (
    Normalised,
    fold,
    german_variants,
    has_confusables,
    normalise,
    skeleton,
)
from filters.url_unwrap import find_urls, unwrap, url_host


class HitKind(StrEnum):
    PERSON = "person"  # a member's name or name variant
    ADDRESS = "address"  # a member's e-mail address or its local part
    ORGANISATION = "organisation"  # a member organisation's name or short form
    DOMAIN = "domain"  # a member organisation's domain, URL or host under it
    ALIAS = "alias"  # any other registered alias (phone, fingerprint, ASN, nickname)
    PHONE = "phone"  # any phone number (generic pattern, always redacted)


class HitAction(StrEnum):
    REDACT = "redact"
    FLAG = "flag"


@dataclass(frozen=True, slots=True)
class Hit:
    start: int  # offsets into the ORIGINAL text given to find()
    end: int
    kind: HitKind
    action: HitAction
    identity_key: str | None  # the member it points at, when known


@dataclass(frozen=True, slots=True)
class Redacted:
    text: str
    flags: tuple[Flag, ...]


# Replacement texts. None of them contains a registry term, and all of them
# are masked before a text is scanned, so a second pass leaves them alone.
PARTICIPANT = "[participant]"
MEMBER_ORGANISATION = "[member organisation]"
MEMBER_LINK = "[member organisation link]"
REDACTED_ALIAS = "[redacted]"
PHONE = "[phone]"
LINK_REMOVED = "[link removed]"

_REPLACEMENT_BY_KIND = {
    HitKind.ORGANISATION: MEMBER_ORGANISATION,
    HitKind.DOMAIN: MEMBER_LINK,
    HitKind.ALIAS: REDACTED_ALIAS,
    HitKind.PHONE: PHONE,
}
_PLACEHOLDERS = re.compile(
    r"\[(?:participant|member organisation(?: link)?|redacted|phone|link removed)\]"
    r"|\bParticipant [A-Z]{1,3}\b"
)

_PhoneScan = Literal["all", "registered", "none"]
_MAX_PASSES = 4  # replacements only remove text, so this converges in two in practice

# Phone numbers are matched with these regions' national formats; numbers with
# an international prefix (+CC or 00CC) are matched whatever their country.
PHONE_REGIONS = ("DE", "FR", "IT", "ES", "NL", "PT", "GB", "AT", "CH", "BE", "PL", "GR", "US")
# National numbers start with the trunk prefix 0 in these (Italian landlines
# keep the 0 as part of the number); in the others they never do. Trying only
# the regions a number can belong to halves the cost of a digit run.
_TRUNK_ZERO_REGIONS = ("DE", "FR", "IT", "NL", "GB", "AT", "CH", "BE")
_NO_TRUNK_REGIONS = ("IT", "ES", "PT", "GR", "PL", "US")


class _Policy(IntEnum):
    """How a term's hit is treated; when terms coincide the higher value wins."""

    FLAG_ONLY = 1  # a first name shorter than 4 letters: flag in every form
    QUIET = 2  # redact when capitalised, ignore otherwise (short surnames, skeletons)
    ACRONYM = 3  # redact when upper case and one word, flag otherwise
    CAPITALISED = 4  # redact when capitalised, flag otherwise (first names)
    STRONG = 5  # redact in any case


_KIND_RANK = {
    HitKind.PERSON: 6,
    HitKind.ADDRESS: 5,
    HitKind.ORGANISATION: 4,
    HitKind.DOMAIN: 3,
    HitKind.ALIAS: 2,
    HitKind.PHONE: 1,
}


@dataclass(frozen=True, slots=True)
class _Entry:
    """What a term stands for: merged over every identity that registered it."""

    kind: HitKind
    policy: _Policy
    keys: frozenset[str]


_END = ""  # trie key of a node's entry (tokens are never empty)
_Trie = dict[str, "_Trie | _Entry"]

_TOKEN = re.compile(r"[a-z0-9]+")
# Separators allowed between two tokens of a term: "J. Müller", "Müller, J.",
# "operator-a", "alice.mueller", "AT&T", a name wrapped over a line.
_LOOSE_SEPARATOR = re.compile(r"[ \-.,_'&+]{1,3}")


def _words(text: str) -> frozenset[str]:
    return frozenset(text.split())


def _split_bars(text: str) -> list[str]:
    return text.split("|")


_NAME_PARTICLES = _words(
    "van von der den de del della des di da das dos du la le ter ten zu zum zur af al el bin ibn"
)
_PARTICLE_PARTS = frozenset((particle,) for particle in _NAME_PARTICLES)
_NAME_TITLES = _words(
    "dr prof mr mrs ms mx ing dipl mag sir dame herr frau mme mlle sr sra dott phd msc"
)
# Local parts that name a role, not a person; they stay terms only as whole addresses.
_ROLE_LOCAL_PARTS = _words(
    "abuse admin administrator cert contact csirt help helpdesk hostmaster info mail noc "
    "noreply no-reply office postmaster security soc support team webmaster"
)
# Domain labels too common to redact on their own (the full domain still is).
_COMMON_LABELS = _words(
    "mail email post web www info home online cloud secure security group global portal "
    "corp intranet extranet soc cert csirt noc abuse admin support service services shop "
    "news bank data tech digital media energy power telecom network networks systems "
    "solutions mobile internet gov police health office team example test"
)
# Legal forms stripped from organisation names; "Operator A GmbH" is also "Operator A".
_LEGAL_SUFFIXES: tuple[tuple[str, ...], ...] = tuple(
    tuple(suffix.split())
    for suffix in _split_bars(
        "gmbh co kg|gmbh|mbh|ag|kg|kgaa|ohg|ug|e v|ev|se|s a|sa|s p a|spa|s r l|srl|s l|sl|"
        "s a s|sas|sasu|sarl|s a r l|eurl|snc|gie|ltd|limited|inc|incorporated|corp|"
        "corporation|co|company|llc|llp|lp|plc|pty ltd|pty|b v|bv|n v|nv|bvba|sprl|scrl|asbl|"
        "vzw|oy|oyj|ab|ab publ|as|asa|a s|aps|a p s|s r o|sro|sp z o o|spzoo|kft|zrt|nyrt|"
        "d o o|doo|d d|ad|ead|lda|sgps|a e|ae|ike|epe"
    )
)


def _suffix_trie() -> dict[str, dict]:
    root: dict[str, dict] = {}
    for suffix in _LEGAL_SUFFIXES:
        node = root
        for token in suffix:
            node = node.setdefault(token, {})
        node[_END] = {}
    return root


_SUFFIX_TRIE = _suffix_trie()


_LONGEST_SUFFIX_FIRST = sorted(_LEGAL_SUFFIXES, key=len, reverse=True)


def _strip_legal_suffix(tokens: tuple[str, ...]) -> tuple[str, ...]:
    changed = True
    while changed and len(tokens) > 1:
        changed = False
        for suffix in _LONGEST_SUFFIX_FIRST:
            if len(tokens) > len(suffix) and tokens[-len(suffix) :] == suffix:
                tokens = tokens[: -len(suffix)]
                changed = True
                break
    return tokens


def _tokens(text: str) -> tuple[str, ...]:
    return tuple(_TOKEN.findall(fold(text)))


def _letters(tokens: tuple[str, ...]) -> int:
    return sum(map(len, tokens))


# ---------------------------------------------------------------------------
# Compiling a registry
# ---------------------------------------------------------------------------


@dataclass(slots=True)
class _Compiled:
    trie: _Trie = field(default_factory=dict)
    skeleton_trie: _Trie = field(default_factory=dict)
    addresses: dict[str, frozenset[str]] = field(default_factory=dict)
    local_parts: dict[str, frozenset[str]] = field(default_factory=dict)
    domains: dict[str, frozenset[str]] = field(default_factory=dict)
    asns: dict[int, frozenset[str]] = field(default_factory=dict)
    # version → prefix length → network as int → keys
    networks: dict[int, dict[int, dict[int, frozenset[str]]]] = field(default_factory=dict)
    fingerprints: dict[str, frozenset[str]] = field(default_factory=dict)
    phones: dict[str, frozenset[str]] = field(default_factory=dict)  # E.164 → keys
    phone_nationals: dict[str, frozenset[str]] = field(default_factory=dict)  # 301234567 → keys
    phone_national_lengths: list[int] = field(default_factory=list)


def _add(table: dict, key: object, identity_key: str) -> None:
    """Add a member to a lookup table (sets while compiling, frozen after)."""
    keys = table.get(key)
    if keys is None:
        keys = table[key] = set()
    keys.add(identity_key)


def _freeze_tables(compiled: _Compiled) -> None:
    tables: list[dict] = [
        compiled.addresses,
        compiled.local_parts,
        compiled.domains,
        compiled.asns,
        compiled.fingerprints,
        compiled.phones,
        compiled.phone_nationals,
    ]
    tables.extend(
        by_network for by_length in compiled.networks.values() for by_network in by_length.values()
    )
    for table in tables:
        for key, keys in table.items():
            table[key] = frozenset(keys)


class _Draft:
    """A trie entry while the registry is compiled: its keys grow in place (a
    first name shared by a thousand members must not copy a frozenset each time)."""

    __slots__ = ("keys", "kind", "policy")

    def __init__(self, kind: HitKind, policy: _Policy) -> None:
        self.kind = kind
        self.policy = policy
        self.keys: set[str] = set()

    def add(self, kind: HitKind, policy: _Policy, key: str) -> None:
        if _KIND_RANK[kind] > _KIND_RANK[self.kind]:
            self.kind = kind
        if policy > self.policy:
            self.policy = policy
        self.keys.add(key)


def _insert(
    trie: dict, tokens: tuple[str, ...], kind: HitKind, policy: _Policy, key: str, drafts: list
) -> None:
    if not tokens or _letters(tokens) < 2:
        return
    node = trie
    for token in tokens:
        child = node.get(token)
        if child is None:
            child = node[token] = {}
        node = child
    draft = node.get(_END)
    if draft is None:
        draft = node[_END] = _Draft(kind, policy)
        drafts.append(node)
    draft.add(kind, policy, key)


def _freeze(nodes: list[dict]) -> None:
    """Turn every draft into its immutable entry, once all identities are in."""
    for node in nodes:
        draft = node[_END]
        node[_END] = _Entry(draft.kind, draft.policy, frozenset(draft.keys))


class _Builder:
    """Collects one identity's terms (deduplicated), then files them in the tries."""

    def __init__(self) -> None:
        self.compiled = _Compiled()
        self._terms: dict[tuple[str, ...], tuple[HitKind, _Policy]] = {}
        self._skeletons: dict[tuple[str, ...], _Policy] = {}
        self.drafts: list[dict] = []  # trie nodes whose entry is still a _Draft

    def term(self, tokens: tuple[str, ...], kind: HitKind, policy: _Policy) -> None:
        known = self._terms.get(tokens)
        if known is not None:
            if _KIND_RANK[known[0]] > _KIND_RANK[kind]:
                kind = known[0]
            policy = max(policy, known[1])
        self._terms[tokens] = (kind, policy)

    def skeleton_term(self, tokens: tuple[str, ...], policy: _Policy) -> None:
        skeletal = tuple(skeleton(token) for token in tokens)
        self._skeletons[skeletal] = max(policy, self._skeletons.get(skeletal, policy))

    def identity(self, identity: Identity) -> None:
        key = identity.key
        self._terms, self._skeletons = {}, {}
        first_names: set[tuple[str, ...]] = set()
        name_tokens: set[str] = set()
        for name in identity.names:
            for tokens, policy, is_first in _name_terms(name):
                self.term(tokens, HitKind.PERSON, policy)
                if is_first:
                    first_names.add(tokens)
                name_tokens.update(tokens)
            for tokens, policy in _skeleton_name_terms(name):
                self.skeleton_term(tokens, policy)
        for address in identity.addresses:
            self.address(address, key, first_names)
        org_tokens: set[str] = set()
        if identity.organisation:
            for tokens, policy in _organisation_terms(identity.organisation):
                self.term(tokens, HitKind.ORGANISATION, policy)
                org_tokens.update(tokens)
        for domain in identity.org_domains:
            for label_tokens in self.domain(domain, key):
                org_tokens.update(label_tokens)
        for alias in identity.aliases:
            self.alias(alias, key, name_tokens, org_tokens)
        for tokens, (kind, policy) in self._terms.items():
            _insert(self.compiled.trie, tokens, kind, policy, key, self.drafts)
        for tokens, policy in self._skeletons.items():
            _insert(self.compiled.skeleton_trie, tokens, HitKind.PERSON, policy, key, self.drafts)

    def address(self, address: str, key: str, first_names: set[tuple[str, ...]]) -> None:
        address = address.strip().strip("<>")
        if "@" not in address:
            return
        local, _, domain = address.rpartition("@")
        folded_local = fold(local)
        for form in _domain_forms(domain):
            _add(self.compiled.addresses, f"{folded_local}@{form}", key)
        tokens = tuple(_TOKEN.findall(folded_local))
        if not tokens or folded_local in _ROLE_LOCAL_PARTS:
            return
        if tokens in first_names:
            # "alice@…": the local part is just the first name; same policy.
            self.term(tokens, HitKind.PERSON, _Policy.CAPITALISED)
        elif _letters(tokens) >= 4:
            self.term(tokens, HitKind.ADDRESS, _Policy.STRONG)
            _add(self.compiled.local_parts, folded_local, key)

    def domain(self, domain: str, key: str) -> Iterator[tuple[str, ...]]:
        """Register a domain's forms; yield the token tuples of its labels."""
        forms, label_terms = _domain_terms(domain)
        for form in forms:
            _add(self.compiled.domains, form, key)
        for tokens, policy in label_terms:
            self.term(tokens, HitKind.ORGANISATION, policy)
            yield tokens

    def alias(self, alias: str, key: str, name_tokens: set[str], org_tokens: set[str]) -> None:
        alias = alias.strip()
        if not alias:
            return
        compact = re.sub(r"[\s:]", "", alias)
        if asn := re.fullmatch(r"(?i)AS(?:N)?[\s-]?(\d{1,10})", alias):
            _add(self.compiled.asns, int(asn.group(1)), key)
            return
        if network := _parse_network(alias):
            by_length = self.compiled.networks.setdefault(network.version, {})
            _add(by_length.setdefault(network.prefixlen, {}), int(network.network_address), key)
            return
        if re.fullmatch(r"(?i)(?:0x)?(?:[0-9a-f]{16}|[0-9a-f]{40}|[0-9a-f]{64})", compact):
            hexdigits = compact.lower().removeprefix("0x")
            _add(self.compiled.fingerprints, hexdigits, key)
            if len(hexdigits) == 40:  # OpenPGP v4: long and short key ids are its tail
                _add(self.compiled.fingerprints, hexdigits[-16:], key)
                _add(self.compiled.fingerprints, hexdigits[-8:], key)
            return
        if re.fullmatch(r"\+?[\d\s()./-]{6,}", alias) and sum(c.isdigit() for c in alias) >= 6:
            for e164, national in _phone_forms(alias):
                _add(self.compiled.phones, e164, key)
                _add(self.compiled.phone_nationals, national, key)
                if len(national) not in self.compiled.phone_national_lengths:
                    self.compiled.phone_national_lengths.append(len(national))
            return
        if "@" in alias and " " not in alias:
            self.address(alias, key, set())
            return
        if "://" in alias or re.fullmatch(r"[\w-]+(?:\.[\w-]+)*\.[a-z]{2,63}", alias):
            for _ in self.domain(alias, key):
                pass
        tokens = _tokens(alias)
        if not tokens:
            return
        if name_tokens.intersection(tokens):
            kind = HitKind.PERSON
            if len(tokens) > 1:  # "Dmitry Ivanov": a spelling of the name; its parts too
                for name_tokens_, policy, _ in _name_terms(alias):
                    self.term(name_tokens_, HitKind.PERSON, policy)
                for skeletal, policy in _skeleton_name_terms(alias):
                    self.skeleton_term(skeletal, policy)
        elif org_tokens.intersection(tokens):
            kind = HitKind.ORGANISATION
        else:
            kind = HitKind.ALIAS
        if _letters(tokens) > 3:
            policy = _Policy.STRONG
        elif kind is HitKind.PERSON:
            policy = _Policy.FLAG_ONLY
        else:
            policy = _Policy.ACRONYM
        self.term(tokens, kind, policy)


def _name_parts(name: str) -> list[tuple[str, ...]]:
    """Folded name parts (each a token tuple), given name first, titles dropped."""
    if "," in name:  # "Müller, Jürgen" as registered: surname first
        surname, _, given = name.partition(",")
        name = f"{given} {surname}"
    parts = [tuple(_TOKEN.findall(word)) for word in fold(name).split(" ")]
    parts = [part for part in parts if part]
    while len(parts) > 1 and len(parts[0]) == 1 and parts[0][0] in _NAME_TITLES:
        parts = parts[1:]
    return parts


def _name_terms(name: str) -> Iterator[tuple[tuple[str, ...], _Policy, bool]]:
    """(tokens, policy, is_first_name) for every form of a person's name."""
    for variant in german_variants(name):
        parts = _name_parts(variant)
        if not parts:
            continue
        full = tuple(token for part in parts for token in part)
        if len(parts) == 1:
            yield full, _Policy.STRONG if _letters(full) >= 4 else _Policy.QUIET, False
            continue
        yield full, _Policy.STRONG, False
        surname_start = len(parts) - 1
        while surname_start > 1 and parts[surname_start - 1] in _PARTICLE_PARTS:
            surname_start -= 1
        first, core = parts[0], parts[-1]
        group = tuple(token for part in parts[surname_start:] for token in part)
        middles = parts[1:surname_start]
        core_strong = _letters(core) >= 4
        pair_policy = _Policy.STRONG if core_strong else _Policy.QUIET

        yield group, pair_policy, False
        yield core, pair_policy, False
        if len(core) > 1:  # "Müller-Lüdenscheidt": either half alone
            for token in core:
                if len(token) >= 4:
                    yield (token,), _Policy.STRONG, False
        # German and Dutch genitives glue an "s" on: "Müllers Bericht", "Jürgens Mail".
        for part, policy in ((core, pair_policy), (first, _Policy.CAPITALISED)):
            if len(part) == 1 and len(part[0]) >= 4 and part[0][-1] not in "sxz":
                yield (part[0] + "s",), policy if policy is _Policy.STRONG else _Policy.QUIET, False
        if _letters(first) >= 4:
            yield first, _Policy.CAPITALISED, True
        elif _letters(first) >= 2:
            yield first, _Policy.FLAG_ONLY, True
        for middle in middles:
            if _letters(middle) >= 4:
                yield middle, _Policy.CAPITALISED, False
            elif _letters(middle) >= 2:
                yield middle, _Policy.FLAG_ONLY, False
        if middles:
            yield first + core, _Policy.STRONG, False
            yield first + group, _Policy.STRONG, False

        initials = tuple(token[0] for token in first)
        yield initials + core, pair_policy, False  # J. Müller, H.-P. Müller
        yield initials + group, pair_policy, False
        yield core + initials, pair_policy, False  # Müller, J.
        yield core + first, _Policy.STRONG, False  # Müller, Jürgen / MÜLLER Jürgen
        yield (*first, core[0][0]), pair_policy if _letters(first) >= 4 else _Policy.QUIET, False
        if core_strong:  # the usual address local parts: jmueller, juergenmueller, muellerj
            joined_core = "".join(core)
            yield ("".join(initials) + joined_core,), _Policy.STRONG, False
            yield ("".join(first) + joined_core,), _Policy.STRONG, False
            yield (joined_core + "".join(initials),), _Policy.STRONG, False


def _skeleton_name_terms(name: str) -> Iterator[tuple[tuple[str, ...], _Policy]]:
    """Terms for the transliteration-skeleton trie: full names any case,
    long surnames and given names only when capitalised."""
    parts = _name_parts(name)
    if len(parts) < 2:
        return
    yield tuple(token for part in parts for token in part), _Policy.STRONG
    yield parts[0] + parts[-1], _Policy.STRONG
    for part in (parts[0], parts[-1]):
        if _letters(part) >= 5:
            yield part, _Policy.QUIET


@lru_cache(maxsize=65_536)
def _domain_terms(
    domain: str,
) -> tuple[frozenset[str], tuple[tuple[tuple[str, ...], _Policy], ...]]:
    """A domain's folded forms, and the terms of its distinctive labels."""
    host = url_host(domain) if "/" in domain else domain
    if not host:
        return frozenset(), ()
    forms = _domain_forms(host)
    terms: list[tuple[tuple[str, ...], _Policy]] = []
    for form in forms:
        for label in _brand_labels(form):
            tokens = tuple(_TOKEN.findall(label))
            if not tokens or label in _COMMON_LABELS:
                continue
            policy = _Policy.ACRONYM if _letters(tokens) <= 3 else _Policy.STRONG
            terms.append((tokens, policy))
            if len(tokens) > 1 and _letters(tokens) >= 5:  # "operatora" for "operator-a"
                terms.append((("".join(tokens),), policy))
    return frozenset(forms), tuple(terms)


@lru_cache(maxsize=65_536)
def _organisation_terms(organisation: str) -> tuple[tuple[tuple[str, ...], _Policy], ...]:
    return tuple(_organisation_term_forms(organisation))


def _organisation_term_forms(organisation: str) -> Iterator[tuple[tuple[str, ...], _Policy]]:
    for variant in german_variants(organisation):
        full = _tokens(variant)
        if not full:
            continue
        stripped = _strip_legal_suffix(full)
        for tokens in {full, stripped}:
            yield tokens, _Policy.ACRONYM if _letters(tokens) <= 3 else _Policy.STRONG
        if len(stripped) > 1 and _letters(stripped) >= 5:
            yield ("".join(stripped),), _Policy.STRONG  # "OperatorA"


@lru_cache(maxsize=65_536)
def _domain_forms(domain: str) -> frozenset[str]:
    """A domain folded, in Unicode and in punycode (IDNA 2003 and 2008 style)."""
    domain = domain.strip().strip(".").lower()
    if not domain:
        return frozenset()
    labels = domain.split(".")
    unicode_labels = [_decode_label(label) for label in labels]
    forms = {fold(domain), fold(".".join(unicode_labels))}
    ascii_labels: list[str] = []
    for label in unicode_labels:
        if label.isascii():
            ascii_labels.append(label)
        else:
            try:
                ascii_labels.append("xn--" + label.encode("punycode").decode("ascii"))
            except UnicodeError:
                ascii_labels.append(label)
    forms.add(".".join(ascii_labels))
    with contextlib.suppress(UnicodeError):  # IDNA 2003, as Python's codec does it
        forms.add(".".join(unicode_labels).encode("idna").decode("ascii").lower())
    return frozenset(form for form in forms if form)


def _decode_label(label: str) -> str:
    if label.startswith("xn--"):
        try:
            return label[4:].encode("ascii").decode("punycode")
        except UnicodeError:
            return label
    return label


def _brand_labels(domain: str) -> set[str]:
    """The leading label, and the label in front of the public suffix."""
    labels = domain.split(".")
    if len(labels) < 2:
        return set()
    brand_index = len(labels) - 2
    second_level = {"co", "com", "org", "net", "gov", "ac", "or", "gv", "edu", "ne", "go"}
    if brand_index > 0 and len(labels[-1]) == 2 and labels[brand_index] in second_level:
        brand_index -= 1
    return {labels[0], labels[brand_index]}


def _parse_network(text: str) -> ipaddress.IPv4Network | ipaddress.IPv6Network | None:
    try:
        return ipaddress.ip_network(text.strip(), strict=False)
    except ValueError:
        return None


def _phone_forms(text: str) -> set[tuple[str, str]]:
    """(E.164, national significant number) of a registered phone number."""
    forms: set[tuple[str, str]] = set()
    candidate = "+" + text.strip()[2:] if text.strip().startswith("00") else text.strip()
    for region in ("ZZ", *PHONE_REGIONS) if not candidate.startswith("+") else ("ZZ",):
        try:
            number = phonenumbers.parse(candidate, region)
        except phonenumbers.NumberParseException:
            continue
        forms.add(
            (
                phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164),
                phonenumbers.national_significant_number(number),
            )
        )
    return forms


# ---------------------------------------------------------------------------
# Scanning a text
# ---------------------------------------------------------------------------


@dataclass(slots=True)
class _Finding:
    """One candidate span in the original text, before overlaps are resolved."""

    start: int
    end: int
    action: HitAction
    kind: HitKind | None  # None: a rewritten link or a generic (non-registry) flag
    keys: frozenset[str] = frozenset()
    replacement: str | None = None  # fixed text; else derived from kind and keys
    inner_url: str | None = None  # an unwrapped link: its target, redacted in turn
    flag_kind: FlagKind | None = None
    flag_detail_is_text: bool = False  # detail = the (redacted) span; else its position
    oracle_term: bool = False  # a registry term the oracle would count

    @property
    def length(self) -> int:
        return self.end - self.start


# Structured patterns, matched on the folded text. Each is tried only where a
# cheap anchor says it can start (an "@", a dot before a letter, a colon, the
# letters "as", a run of digits): letting Python's `re` try every position of a
# 4 KB text costs about half a millisecond per pattern.
_EMAIL = re.compile(
    r"([a-z0-9](?:[a-z0-9._%+\-]*[a-z0-9_%+\-])?)@"
    r"((?:[a-z0-9](?:[a-z0-9\-]*[a-z0-9])?\.)+[a-z0-9\-]{2,63})(?![a-z0-9\-])"
)
_EMAIL_LOCAL_CHARS = frozenset("abcdefghijklmnopqrstuvwxyz0123456789._%+-")
_HOST = re.compile(
    r"((?:[a-z0-9](?:[a-z0-9\-]*[a-z0-9])?\.)+(?:[a-z]{2,63}|xn--[a-z0-9\-]+))"
    r"(?![a-z0-9\-])(?::\d{1,5})?(/[^\s<>\"'`]*)?"
)
_HOST_CHARS = frozenset("abcdefghijklmnopqrstuvwxyz0123456789.-")
_DOT_BEFORE_LETTER = re.compile(r"\.(?=[a-z])")
_IPV4 = re.compile(r"(\d{1,3}(?:\.\d{1,3}){3})(?:/(\d{1,2}))?(?![\w]|\.\d)")
_IPV6 = re.compile(
    r"((?=[0-9a-f:.]*[0-9a-f])[0-9a-f]{0,4}(?::[0-9a-f]{0,4}){2,7}"
    r"(?:(?<=:)\d{1,3}(?:\.\d{1,3}){3})?)(?:/(\d{1,3}))?(?![\w:])"
)
_IPV6_CHARS = frozenset("0123456789abcdef:")
_ASN = re.compile(r"as(n?)[ \-]?(\d{1,10})(?!\w)")
_HEX_OR_X = "0123456789abcdefx"  # "0x" may prefix a key id
_DIGIT_RUN = re.compile(r"\d[\d ()./\-]{5,}\d")
_PHONE_LABEL = re.compile(
    r"\b(?:tel|phone|fon|mobil|mobile|cell|fax|gsm|handy|telefon|telefono|telephone|"
    r"telefoon|telemovel|tlf|tfn|ph|mob|m|t|f|p)\s*[.:]?\s*(?:\(\w+\)\s*)?$"
)
_NOT_A_PHONE = (
    re.compile(r"\d{1,4}([./\-])\d{1,2}\1\d{1,4}"),  # dates 03.09.2024, 2024-09-03, 3/9/24
    re.compile(r"[1-9]\d*(?:\.\d+){2,}"),  # versions and IPv4 (French "01.23…" starts with 0)
    re.compile(r"\d{4}\s?[\-/]\s?\d{4}"),  # year ranges 2019-2024
    re.compile(r"\d{1,3}(?:\.\d{3}){2,}"),  # thousands 1.234.567
)


class RegistryMatcher:
    """A registry compiled once for fast, repeated matching (immutable)."""

    __slots__ = ("_compiled",)

    def __init__(self, compiled: _Compiled) -> None:
        self._compiled = compiled

    @classmethod
    def compile(cls, registry: Registry) -> RegistryMatcher:
        # Building the tries allocates hundreds of thousands of small dicts and
        # tuples; the cyclic garbage collector would walk the growing structure
        # again and again (40% of the time for 10,000 identities). Nothing here
        # makes reference cycles, so it is paused and its previous state restored.
        collecting = gc.isenabled()
        gc.disable()
        try:
            builder = _Builder()
            for identity in registry.identities:
                builder.identity(identity)
            _freeze(builder.drafts)
            _freeze_tables(builder.compiled)
        finally:
            if collecting:
                gc.enable()
        return cls(builder.compiled)

    # -- public API ---------------------------------------------------------

    def find(self, text: str) -> list[Hit]:
        """Registry hits and phone numbers in `text`, in order, not overlapping."""
        selected, flags = self._select(text, with_rewrites=False)
        hits = [
            Hit(f.start, f.end, f.kind, f.action, _single(f.keys))
            for f in sorted(selected + flags, key=lambda f: f.start)
            if f.kind is not None
        ]
        return hits

    def identities_in(self, text: str) -> list[str]:
        """Keys of the members named in `text`, in order of first appearance."""
        keys: dict[str, None] = {}
        for hit in self.find(text):
            if hit.kind in (HitKind.PERSON, HitKind.ADDRESS) and hit.identity_key:
                keys.setdefault(hit.identity_key, None)
        return list(keys)

    def redact(self, text: str, participants: Mapping[str, str], where: str = "body") -> Redacted:
        """`text` with every registry term and phone number replaced, and the flags.

        Redaction runs until the text no longer changes, so redacting the result
        again is guaranteed to change nothing: a replacement can expose what was
        glued to the cut-out part ("…/x+49 30 1234567" after a link). The flags
        come from the last pass, so they describe what the redacted text keeps
        and "characters i-j" positions are offsets into the redacted text.
        """
        current = text
        for _ in range(_MAX_PASSES):
            redacted, flags = self._redact(current, participants, where, depth=0)
            if redacted == current:
                break
            current = redacted
        return Redacted(current, flags)

    def contains_registry_term(self, text: str) -> bool:
        """Whether `text` names any member, organisation or member infrastructure.

        Meant for long texts (attachment content): phone numbers count only when
        registered, and are compared digit for digit instead of being parsed.
        """
        phones: _PhoneScan = "registered" if self._compiled.phones else "none"
        selected, flags = self._select(text, with_rewrites=False, phones=phones)
        return any(f.oracle_term for f in selected + flags)

    # -- redaction ----------------------------------------------------------

    def _redact(
        self, text: str, participants: Mapping[str, str], where: str, depth: int
    ) -> tuple[str, tuple[Flag, ...]]:
        selected, flag_findings = self._select(text, with_rewrites=True, participants=participants)
        replacements: list[tuple[int, int, str]] = []
        flags: list[tuple[int, Flag]] = []
        for finding in selected:
            if finding.inner_url is not None:
                inner_text, inner_flags = (
                    self._redact(finding.inner_url, participants, where, depth + 1)
                    if depth < 3
                    else (LINK_REMOVED, ())
                )
                replacements.append((finding.start, finding.end, inner_text))
                flags.extend((finding.start, flag) for flag in inner_flags)
            else:
                replacements.append(
                    (finding.start, finding.end, _replacement(finding, participants))
                )
        redacted = _apply(text, replacements)
        replacement_starts = [start for start, _, _ in replacements]
        for finding in flag_findings:
            assert finding.flag_kind is not None
            if finding.flag_detail_is_text:
                first = bisect.bisect_left(replacement_starts, finding.start)
                inside = []
                for s, e, r in replacements[first:]:
                    if s >= finding.end:
                        break
                    if e <= finding.end:
                        inside.append((s - finding.start, e - finding.start, r))
                detail = _apply(text[finding.start : finding.end], inside)
            else:
                detail = f"characters {finding.start}-{finding.end}"
            flags.append((finding.start, Flag(finding.flag_kind, detail, where)))
        unique: dict[tuple[FlagKind, str], Flag] = {}
        for _, flag in sorted(flags, key=lambda item: item[0]):
            flag = Flag(flag.kind, flag.detail, where)
            unique.setdefault((flag.kind, flag.detail), flag)
        return redacted, tuple(unique.values())

    def _select(
        self,
        text: str,
        *,
        with_rewrites: bool,
        participants: Mapping[str, str] | None = None,
        phones: _PhoneScan = "all",
    ) -> tuple[list[_Finding], list[_Finding]]:
        """Resolve overlaps: (redactions, flags), neither overlapping itself."""
        masks = [m.span() for m in _PLACEHOLDERS.finditer(text)]
        for label in (participants or {}).values():
            if label:
                masks.extend(m.span() for m in re.finditer(re.escape(label), text))
        masked = _Spans(masks)
        findings = [
            f
            for f in self._findings(text, phones=phones)
            if (with_rewrites or f.kind is not None or f.action is HitAction.FLAG)
            and not masked.covers(f.start, f.end)
        ]
        redactions = _non_overlapping(
            sorted(
                (f for f in findings if f.action is HitAction.REDACT),
                key=lambda f: (-f.length, -_KIND_RANK.get(f.kind, 7) if f.kind else -7, f.start),
            ),
            len(text),
        )
        redactions = _merge_adjacent_names(text, redactions)
        _swallow_invisibles(text, redactions)
        redacted = _Spans([(f.start, f.end) for f in redactions])
        flags: list[_Finding] = []
        reach = -1  # the furthest end of a kept flag starting at or before this one
        for finding in sorted(
            (f for f in findings if f.action is HitAction.FLAG), key=lambda f: (f.start, -f.end)
        ):
            if redacted.covers(finding.start, finding.end):
                continue  # gone with the redaction around it
            if reach >= finding.end:
                continue  # inside a larger flag ("alice" inside an attacker's address)
            flags.append(finding)
            reach = max(reach, finding.end)
        return redactions, flags

    # -- finding candidates -------------------------------------------------

    def _findings(self, text: str, *, phones: _PhoneScan = "all") -> list[_Finding]:
        findings = list(self._url_findings(text))
        views = [normalise(text)]
        if has_confusables(text):
            visual = normalise(text, visual=True)
            if visual.text != views[0].text:
                views.append(visual)
        for index, view in enumerate(views):
            tokens = _Tokens.of(view.text)
            term_findings = list(self._term_findings(text, view, tokens))
            findings.extend(term_findings)
            findings.extend(self._email_findings(view, term_findings))
            findings.extend(self._host_findings(view))
            if index == 0:
                findings.extend(self._ip_findings(view))
                findings.extend(self._asn_findings(text, view))
                findings.extend(self._fingerprint_findings(view, tokens))
                if phones != "none":
                    findings.extend(
                        self._phone_findings(text, view, registered_only=phones == "registered")
                    )
        return findings

    def _url_findings(self, text: str) -> Iterator[_Finding]:
        for span in find_urls(text):
            url = span.url
            if url[:7].lower() == "mailto:":
                keys = self._mailto_member(url)
                if keys is not None:
                    yield _Finding(
                        span.start,
                        span.end,
                        HitAction.REDACT,
                        HitKind.ADDRESS,
                        keys,
                        oracle_term=True,
                    )
                continue
            target = unwrap(url)
            if target.status == "removed":
                yield _Finding(
                    span.start, span.end, HitAction.REDACT, None, replacement=LINK_REMOVED
                )
                continue
            member = self._member_url(target.url)
            if member is not None:
                yield _Finding(
                    span.start, span.end, HitAction.REDACT, HitKind.DOMAIN, member, oracle_term=True
                )
            elif target.status == "unwrapped":
                yield _Finding(span.start, span.end, HitAction.REDACT, None, inner_url=target.url)
            else:
                yield _Finding(
                    span.start,
                    span.end,
                    HitAction.FLAG,
                    None,
                    flag_kind=FlagKind.NON_MEMBER_URL,
                    flag_detail_is_text=True,
                )

    def _mailto_member(self, url: str) -> frozenset[str] | None:
        """Keys when a mailto: URI names a member (empty: a member we cannot name)."""
        recipients = unquote(url[7:].split("?", 1)[0])
        for recipient in recipients.split(","):
            local, at, domain = fold(recipient.strip()).rpartition("@")
            if at:
                keys = self._member_address(local, domain)
                if keys is not None:
                    return keys
        return None

    def _member_address(
        self, local: str, domain: str, *, scan_terms: bool = True
    ) -> frozenset[str] | None:
        compiled = self._compiled
        keys = compiled.addresses.get(f"{local}@{domain}")
        if keys is not None:
            return keys
        if self._member_domain(domain) is not None:
            return compiled.local_parts.get(local, frozenset())
        keys = compiled.local_parts.get(local)
        if keys is not None or not scan_terms:
            return keys
        for finding in self._term_findings(local, normalise(local)):
            if finding.action is HitAction.REDACT or finding.oracle_term:
                return finding.keys
        return None

    def _member_domain(self, host: str) -> frozenset[str] | None:
        host = host.strip(".").lower()
        domains = self._compiled.domains
        labels = host.split(".")
        decoded = fold(".".join(_decode_label(label) for label in labels))
        for candidate in {host, fold(host), decoded}:
            parts = candidate.split(".")
            for index in range(len(parts) - 1):
                keys = domains.get(".".join(parts[index:]))
                if keys is not None:
                    return keys
        return None

    def _member_url(self, url: str) -> frozenset[str] | None:
        host = url_host(url)
        if host is None:
            return None
        address = _parse_address(host)
        if address is not None:
            return self._member_ip(address)
        return self._member_domain(host)

    def _member_ip(
        self, address: ipaddress.IPv4Address | ipaddress.IPv6Address
    ) -> frozenset[str] | None:
        by_length = self._compiled.networks.get(address.version)
        if not by_length:
            return None
        bits = address.max_prefixlen
        value = int(address)
        for length, networks in by_length.items():
            keys = networks.get(value >> (bits - length) << (bits - length))
            if keys is not None:
                return keys
        return None

    def _term_findings(
        self, text: str, view: Normalised, tokens: _Tokens | None = None
    ) -> Iterator[_Finding]:
        tokens = tokens or _Tokens.of(view.text)
        compiled = self._compiled
        walks: list[tuple[_Trie, list[str]]] = [(compiled.trie, tokens.words)]
        if compiled.skeleton_trie:
            skeletal = [skeleton(word) if word.isalpha() else word for word in tokens.words]
            walks.append((compiled.skeleton_trie, skeletal))
        for trie, keys in walks:
            roots = [index for index, key in enumerate(keys) if key in trie]
            yield from self._walk(text, view, tokens, trie, keys, roots)

    def _walk(
        self,
        text: str,
        view: Normalised,
        tokens: _Tokens,
        trie: _Trie,
        keys: list[str],
        roots: list[int],
    ) -> Iterator[_Finding]:
        count = len(keys)
        for first in roots:
            node = trie.get(keys[first])
            last = first
            while isinstance(node, dict):
                entry = node.get(_END)
                if isinstance(entry, _Entry):
                    finding = self._term_finding(text, view, tokens, first, last, entry)
                    if finding is not None:
                        yield finding
                last += 1
                if last == count or not tokens.loose(last - 1):
                    break
                node = node.get(keys[last])

    def _term_finding(
        self,
        text: str,
        view: Normalised,
        tokens: _Tokens,
        first: int,
        last: int,
        entry: _Entry,
    ) -> _Finding | None:
        starts, ends = tokens.starts, tokens.ends
        end_token = last
        if entry.kind is HitKind.ORGANISATION:
            end_token = _legal_suffix_end(tokens, last)
            # A legal form is written capitalised ("AS", "Co.", "GmbH"); "Operator A
            # as we saw" must not lose its "as".
            if end_token != last:
                suffix_start, suffix_end = view.original_span(starts[last + 1], ends[end_token])
                if not _capitalised(text[suffix_start:suffix_end]):
                    end_token = last
        start, end = view.original_span(starts[first], ends[end_token])
        # "S.A." and "B.V." end in a dot that belongs to them; "Ltd." may end a sentence.
        if (
            end_token != last
            and view.text[ends[end_token] : ends[end_token] + 1] == "."
            and all(len(word) <= 2 for word in tokens.words[last + 1 : end_token + 1])
        ):
            end = view.original_span(ends[end_token], ends[end_token] + 1)[1]
        original = text[start : view.original_span(starts[first], ends[last])[1]]
        policy = entry.policy
        action: HitAction | None
        flag_kind = FlagKind.FIRST_NAME
        if policy is _Policy.STRONG:
            action = HitAction.REDACT
        elif policy is _Policy.CAPITALISED:
            action = HitAction.REDACT if _capitalised(original) else HitAction.FLAG
        elif policy is _Policy.QUIET:
            action = HitAction.REDACT if _capitalised(original) else None
        elif policy is _Policy.ACRONYM:
            flag_kind = FlagKind.ACRONYM
            whole_word = first == last
            action = HitAction.REDACT if whole_word and _upper_word(original) else HitAction.FLAG
        else:
            action = HitAction.FLAG
        if action is None:
            return None
        oracle_term = action is HitAction.REDACT or (
            policy is _Policy.CAPITALISED and _letters(tuple(tokens.words[first : last + 1])) >= 4
        )
        return _Finding(
            start,
            end,
            action,
            entry.kind,
            entry.keys,
            flag_kind=flag_kind if action is HitAction.FLAG else None,
            oracle_term=oracle_term,
        )

    def _email_findings(self, view: Normalised, terms: list[_Finding]) -> Iterator[_Finding]:
        folded = view.text
        terms = sorted(terms, key=lambda term: term.start)
        term_starts = [term.start for term in terms]
        position = 0
        at = folded.find("@")
        while at >= 0:
            local_start = _extend_left(folded, at, _EMAIL_LOCAL_CHARS, position, 64)
            while local_start < at and not folded[local_start].isalnum():
                local_start += 1
            match = _EMAIL.match(folded, local_start) if local_start < at else None
            at = folded.find("@", at + 1)
            if match is None:
                continue
            position = match.end()
            local, domain = match.group(1), match.group(2)
            start, end = view.original_span(*match.span())
            local_end = view.original_span(*match.span(1))[1]
            keys = self._member_address(local, domain, scan_terms=False)
            if keys is None:
                # A registry term in the local part names the owner.
                for term in terms[bisect.bisect_left(term_starts, start) :]:
                    if term.start >= local_end:
                        break
                    if term.end <= local_end and term.oracle_term:
                        keys = term.keys
                        break
            if keys is not None:
                yield _Finding(
                    start, end, HitAction.REDACT, HitKind.ADDRESS, keys, oracle_term=True
                )
            else:
                yield _Finding(
                    start,
                    end,
                    HitAction.FLAG,
                    None,
                    flag_kind=FlagKind.NON_MEMBER_ADDRESS,
                    flag_detail_is_text=True,
                )

    def _host_findings(self, view: Normalised) -> Iterator[_Finding]:
        folded = view.text
        position = 0
        for dot in _DOT_BEFORE_LETTER.finditer(folded):
            if dot.start() < position:
                continue
            host_start = _extend_left(folded, dot.start(), _HOST_CHARS, position, 253)
            while host_start < dot.start() and not folded[host_start].isalnum():
                host_start += 1
            if host_start > 0 and folded[host_start - 1] in "@.-":
                continue  # inside an e-mail address or a longer name
            match = _HOST.match(folded, host_start)
            if match is None:
                continue
            position = match.end()
            keys = self._member_domain(match.group(1))
            if keys is None:
                continue
            end = match.end()
            while end > match.start() and folded[end - 1] in ".,;:!?)]}'\"":
                end -= 1
            start, end = view.original_span(match.start(), end)
            yield _Finding(start, end, HitAction.REDACT, HitKind.DOMAIN, keys, oracle_term=True)

    def _ip_findings(self, view: Normalised) -> Iterator[_Finding]:
        folded = view.text
        for match in _ip_matches(folded):
            address = _parse_address(match.group(1))
            if address is None:
                continue
            keys = self._member_ip(address)
            if keys is None and match.group(2):
                network = _parse_network(match.group(0))
                if network is not None:
                    keys = self._member_ip(network.network_address)
                    if keys is not None and self._member_ip(network.broadcast_address) is None:
                        keys = None  # a wider block than the member's: flag, do not redact
            start, end = view.original_span(*match.span())
            if keys is not None:
                yield _Finding(start, end, HitAction.REDACT, HitKind.ALIAS, keys, oracle_term=True)
            else:
                yield _Finding(
                    start,
                    end,
                    HitAction.FLAG,
                    None,
                    flag_kind=FlagKind.IP_ADDRESS,
                    flag_detail_is_text=True,
                )

    def _asn_findings(self, text: str, view: Normalised) -> Iterator[_Finding]:
        folded = view.text
        for match in _ASN.finditer(folded):
            if match.start() > 0 and (
                folded[match.start() - 1].isalnum() or folded[match.start() - 1] == "_"
            ):
                continue
            number = int(match.group(2))
            if not 0 < number < 2**32:
                continue
            prefix_start, prefix_end = view.original_span(match.start(), match.start(2))
            prefix = text[prefix_start:prefix_end].strip(" -")
            glued = match.end(1) == match.start(2)  # "as64500", no space or dash
            if not match.group(1) and not glued and not prefix.isupper():
                continue  # "as 2024 ends": an English word, not an ASN
            start, end = view.original_span(*match.span())
            keys = self._compiled.asns.get(number)
            if keys is not None:
                yield _Finding(start, end, HitAction.REDACT, HitKind.ALIAS, keys, oracle_term=True)
            else:
                yield _Finding(
                    start,
                    end,
                    HitAction.FLAG,
                    None,
                    flag_kind=FlagKind.ASN,
                    flag_detail_is_text=True,
                )

    def _fingerprint_findings(self, view: Normalised, tokens: _Tokens) -> Iterator[_Finding]:
        """Registered key fingerprints and key ids, written in groups or in one piece."""
        fingerprints = self._compiled.fingerprints
        if not fingerprints:
            return
        words = tokens.words
        hexes = {
            index: word[2:] if word[:2] == "0x" else word
            for index, word in enumerate(words)
            if len(word) >= 4 and not word.strip(_HEX_OR_X) and word.find("x", 2) < 0
        }
        for first in hexes:
            joined = ""
            for last in range(first, len(words)):
                if last not in hexes or (
                    last > first and tokens.separator(last - 1) not in (" ", ":")
                ):
                    break
                joined += hexes[last]
                if len(joined) > 64:
                    break
                keys = fingerprints.get(joined)
                if keys is not None:
                    start, end = view.original_span(tokens.starts[first], tokens.ends[last])
                    yield _Finding(
                        start, end, HitAction.REDACT, HitKind.ALIAS, keys, oracle_term=True
                    )

    def _phone_findings(
        self, text: str, view: Normalised, *, registered_only: bool
    ) -> Iterator[_Finding]:
        folded = view.text
        phones = self._compiled.phones
        for run in _DIGIT_RUN.finditer(folded):
            start, end = run.span()
            # A leading "+" belongs to the number; "(" only when the number closes it.
            while start > 0 and (
                folded[start - 1] == "+" or (folded[start - 1] == "(" and ")" in run.group())
            ):
                start -= 1
            labelled = bool(_PHONE_LABEL.search(folded, max(0, start - 16), start))
            before = folded[start - 1] if start else " "
            after = folded[end : end + 2]
            # Glued to a word, a path, an IP, a port, a decimal ("CVE-2024-12345",
            # "10.0.0.1", "host:8443"): no phone number, unless a member registered
            # exactly these digits.
            glued = (
                folded[start] != "+"
                and (before.isalnum() or before in "_.+/@#=-" or (before == ":" and not labelled))
            ) or (
                after[:1].isalnum()
                or (len(after) == 2 and after[0] in ".:/-" and after[1].isdigit())
            )
            if glued and not self._compiled.phone_nationals:
                continue
            for segment_start, segment in _phone_pieces(text, view, start, end):
                # Registered digits go whatever surrounds them (the oracle's rule).
                keys = self._registered_phone(segment) if self._compiled.phone_nationals else None
                if keys is not None:
                    span = view.original_span(segment_start, segment_start + len(segment))
                    yield _Finding(*span, HitAction.REDACT, HitKind.PHONE, keys, oracle_term=True)
                if registered_only or glued:
                    continue
                for offset, length, e164 in _phone_numbers(segment, labelled):
                    span = view.original_span(
                        segment_start + offset, segment_start + offset + length
                    )
                    keys = phones.get(e164, frozenset())
                    yield _Finding(
                        *span, HitAction.REDACT, HitKind.PHONE, keys, oracle_term=bool(keys)
                    )

    def _registered_phone(self, segment: str) -> frozenset[str] | None:
        """Keys of a registered number whose digits occur in `segment` (no parsing)."""
        digits = re.sub(r"\D", "", segment)
        national = self._compiled.phone_nationals
        for length in self._compiled.phone_national_lengths:
            for start in range(len(digits) - length + 1):
                keys = national.get(digits[start : start + length])
                if keys is not None:
                    return keys
        return None


@dataclass(frozen=True, slots=True)
class _Tokens:
    """The word tokens of a folded text, with their positions in it."""

    folded: str
    words: list[str]
    starts: list[int]
    ends: list[int]

    @classmethod
    def of(cls, folded: str) -> _Tokens:
        # One split with a captured separator, and running lengths: several times
        # cheaper than a match object per token. pieces = [word, sep, word, …].
        pieces = _SEPARATORS.split(folded)
        offsets = list(accumulate(map(len, pieces), initial=0))
        first = 0 if pieces[0] else 2
        last = len(pieces) if pieces[-1] else len(pieces) - 2
        return cls(
            folded,
            pieces[first:last:2],
            offsets[first:last:2],
            offsets[first + 1 : last + 1 : 2],
        )

    def separator(self, index: int) -> str:
        """What lies between word `index` and the next."""
        return self.folded[self.ends[index] : self.starts[index + 1]]

    def loose(self, index: int) -> bool:
        return (
            _LOOSE_SEPARATOR.fullmatch(self.folded, self.ends[index], self.starts[index + 1])
            is not None
        )


_SEPARATORS = re.compile(r"([^a-z0-9]+)")


def _extend_left(text: str, index: int, allowed: frozenset[str], floor: int, limit: int) -> int:
    """The smallest start <= index such that text[start:index] is all `allowed`."""
    start = index
    bound = max(floor, index - limit)
    while start > bound and text[start - 1] in allowed:
        start -= 1
    return start


def _ip_matches(folded: str) -> Iterator[re.Match[str]]:
    """IPv4 (anchored on "digit.digit") and IPv6 (anchored on ":") matches."""
    position = 0
    dot = folded.find(".")
    while dot >= 0:
        if (
            dot >= position
            and 0 < dot < len(folded) - 1
            and folded[dot - 1].isdigit()
            and folded[dot + 1].isdigit()
        ):
            start = dot
            while start > 0 and folded[start - 1].isdigit() and dot - start < 3:
                start -= 1
            if start == 0 or not (folded[start - 1].isalnum() or folded[start - 1] in "_."):
                match = _IPV4.match(folded, start)
                if match is not None:
                    position = match.end()
                    yield match
        dot = folded.find(".", dot + 1)
    position = 0
    colon = folded.find(":")
    while colon >= 0:
        if colon >= position:
            start = _extend_left(folded, colon, _IPV6_CHARS, position, 40)
            if start == 0 or not (folded[start - 1].isalnum() or folded[start - 1] in "_:."):
                match = _IPV6.match(folded, start)
                if match is not None and match.end() > colon:
                    position = match.end()
                    yield match
        colon = folded.find(":", colon + 1)


@lru_cache(maxsize=4096)
def _phone_numbers(candidate: str, labelled: bool) -> tuple[tuple[int, int, str], ...]:
    """(offset, length, E.164) of the phone numbers inside one digit run.

    International forms (+CC, 00CC) are accepted when possible for their
    country; national forms must be valid in one of PHONE_REGIONS. Dates,
    versions, IPv4 addresses, year ranges and thousands are never phones, and a
    bare digit run (no +, no trunk 0, no separators) only next to a phone label.
    """
    international = candidate.startswith(("+", "00"))
    if not international:
        # Cheap refusals before phonenumbers tries thirteen regions: dates,
        # versions and the like, and bare digit runs nobody labelled a phone.
        if any(pattern.fullmatch(candidate.strip("() ")) for pattern in _NOT_A_PHONE):
            return ()
        if not labelled and candidate[0] not in "0(" and not re.search(r"\d[ ./\-]\d", candidate):
            return ()
    text = "+" + candidate[2:] if candidate.startswith("00") else candidate
    shift = 1 if candidate.startswith("00") else 0
    found: dict[int, tuple[int, int, str]] = {}
    if international:
        regions: tuple[str, ...] = ("ZZ",)
    elif candidate.lstrip("(")[:1] == "0":
        regions = _TRUNK_ZERO_REGIONS
    else:
        regions = _NO_TRUNK_REGIONS
    leniency = phonenumbers.Leniency.POSSIBLE if international else phonenumbers.Leniency.VALID
    digits_total = sum(char.isdigit() for char in candidate)
    covered = 0
    for region in regions:
        for match in phonenumbers.PhoneNumberMatcher(text, region, leniency=leniency):
            raw = match.raw_string
            start = match.start + (shift if match.start > 0 else 0)
            length = match.end - match.start + (shift if match.start == 0 else 0)
            if any(start < s + n and s < start + length for s, n, _ in found.values()):
                continue
            if not _plausible_phone(raw, labelled):
                continue
            e164 = phonenumbers.format_number(match.number, phonenumbers.PhoneNumberFormat.E164)
            found[start] = (start, length, e164)
            covered += sum(char.isdigit() for char in raw)
        if covered >= digits_total:
            break
    return tuple(sorted(found.values()))


def _phone_pieces(text: str, view: Normalised, start: int, end: int) -> Iterator[tuple[int, str]]:
    """Pieces of the folded digit run [start, end) that may hold a phone number.

    A number is not wrapped across lines (a line break between digits ends a
    field of a table or a log line), and dates are cut out.
    """
    folded = view.text
    position = start
    space = folded.find(" ", start, end)
    while space >= 0:
        original_start, original_end = view.original_span(space, space + 1)
        if "\n" in text[original_start:original_end]:
            for offset, piece in _without_dates(folded[position:space]):
                yield position + offset, piece
            position = space + 1
        space = folded.find(" ", space + 1, end)
    for offset, piece in _without_dates(folded[position:end]):
        yield position + offset, piece


_DATE_OR_TIME = re.compile(r"(?<!\d)\d{1,4}([./\-])\d{1,2}\1\d{1,4}(?!\d)")


def _without_dates(run: str) -> Iterator[tuple[int, str]]:
    """The pieces of a digit run between dates, each with its offset in the run.

    "2024-09-03 10" holds no phone; "03.09.2024 030 1234567" holds one after
    the date. Pieces too short to be a number are left out.
    """
    position = 0
    for date in _DATE_OR_TIME.finditer(run):
        yield from _digit_piece(run, position, date.start())
        position = date.end()
    yield from _digit_piece(run, position, len(run))


def _digit_piece(run: str, start: int, end: int) -> Iterator[tuple[int, str]]:
    piece = run[start:end]
    stripped = piece.strip(" ./-")
    if sum(char.isdigit() for char in stripped) >= 7:
        yield start + piece.index(stripped), stripped


def _plausible_phone(raw: str, labelled: bool) -> bool:
    if sum(char.isdigit() for char in raw) < 7:
        return False
    if any(pattern.fullmatch(raw.strip("() ")) for pattern in _NOT_A_PHONE):
        return False
    formatted = raw[0] in "+0(" or re.search(r"\d[ ./\-]\d", raw) is not None
    return formatted or labelled


# ---------------------------------------------------------------------------
# Small helpers
# ---------------------------------------------------------------------------


def _single(keys: frozenset[str]) -> str | None:
    return next(iter(keys)) if len(keys) == 1 else None


def _replacement(finding: _Finding, participants: Mapping[str, str]) -> str:
    if finding.replacement is not None:
        return finding.replacement
    if finding.kind in (HitKind.PERSON, HitKind.ADDRESS):
        key = _single(finding.keys)
        return participants.get(key, PARTICIPANT) if key else PARTICIPANT
    assert finding.kind is not None
    return _REPLACEMENT_BY_KIND[finding.kind]


def _apply(text: str, replacements: Iterable[tuple[int, int, str]]) -> str:
    pieces: list[str] = []
    position = 0
    for start, end, replacement in sorted(replacements):
        pieces.append(text[position:start])
        pieces.append(replacement)
        position = end
    pieces.append(text[position:])
    return "".join(pieces)


class _Spans:
    """Disjoint-or-nested spans, asked whether they cover a range (binary search)."""

    def __init__(self, spans: list[tuple[int, int]]) -> None:
        spans.sort()
        self._starts = [start for start, _ in spans]
        # reach[i]: the furthest end among spans[0..i], so nesting does not hide one.
        self._reach = list(accumulate((end for _, end in spans), max))

    def covers(self, start: int, end: int) -> bool:
        index = bisect.bisect_right(self._starts, start) - 1
        return index >= 0 and self._reach[index] >= end


def _non_overlapping(ranked: Iterable[_Finding], length: int) -> list[_Finding]:
    """Greedy by rank; returns the kept findings sorted by start.

    Taken characters are marked in a bytearray, so checking and marking cost
    the span's length in C, whatever the number of findings (an IOC list can
    hold tens of thousands).
    """
    taken = bytearray(length)
    kept: list[_Finding] = []
    for finding in ranked:
        if taken.find(1, finding.start, finding.end) >= 0:
            continue
        taken[finding.start : finding.end] = b"\x01" * (finding.end - finding.start)
        kept.append(finding)
    kept.sort(key=lambda finding: finding.start)
    return kept


_NAME_GLUE = re.compile(r"[\s.\-]{1,3}|\s*\w\.\s*|\s+\w\s+")


def _merge_adjacent_names(text: str, findings: list[_Finding]) -> list[_Finding]:
    """Join "Jürgen" + "M." + "Müller" into one replacement when they agree on who.

    Two person hits are joined when only a little punctuation or one initial
    separates them and some member is named by both; "Alice, Bob" stays two.
    """
    merged: list[_Finding] = []
    for finding in findings:
        previous = merged[-1] if merged else None
        if (
            previous is not None
            and previous.kind is HitKind.PERSON
            and finding.kind is HitKind.PERSON
            and _NAME_GLUE.fullmatch(text, previous.end, finding.start)
        ):
            common = previous.keys & finding.keys
            if common:
                merged[-1] = _Finding(
                    previous.start,
                    finding.end,
                    HitAction.REDACT,
                    HitKind.PERSON,
                    common,
                    oracle_term=True,
                )
                continue
        merged.append(finding)
    return merged


def _swallow_invisibles(text: str, redactions: list[_Finding]) -> None:
    """Widen replacements over invisible characters glued to them: a bidi
    isolate or zero-width space around a name has no reason to survive it."""
    for index, finding in enumerate(redactions):
        floor = redactions[index - 1].end if index else 0
        ceiling = redactions[index + 1].start if index + 1 < len(redactions) else len(text)
        while finding.start > floor and _is_invisible(text[finding.start - 1]):
            finding.start -= 1
        while finding.end < ceiling and _is_invisible(text[finding.end]):
            finding.end += 1


def _is_invisible(char: str) -> bool:
    return not char.isspace() and normalise(char).text == ""


def _legal_suffix_end(tokens: _Tokens, last: int) -> int:
    """Index of the last token of a legal form following an organisation name."""
    node = _SUFFIX_TRIE
    end = last
    index = last + 1
    while index < len(tokens.words) and tokens.loose(index - 1):
        node = node.get(tokens.words[index])  # type: ignore[assignment]
        if node is None:
            break
        if _END in node:
            end = index
        index += 1
    return end


def _capitalised(original: str) -> bool:
    for char in original:
        if char.isalpha():
            return not char.islower()
    return True


def _upper_word(original: str) -> bool:
    letters = [char for char in original if char.isalpha()]
    return bool(letters) and all(not char.islower() for char in letters)


def _parse_address(text: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    if not text or not (text[0].isdigit() or ":" in text):
        return None  # a host name: spare the two exceptions ip_address() would raise
    try:
        return ipaddress.ip_address(text)
    except ValueError:
        return None
