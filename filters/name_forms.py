"""The written forms of a person's or an organisation's name, as registry terms.

A term is a tuple of folded word tokens (`filters.normalise.fold`, then
`[a-z0-9]+` runs) with a `Policy` that says when a hit on it is redacted,
flagged or ignored (filters/matching.py explains the policy table).

Person names ("Jürgen Müller", "Anna van der Berg", "Müller, Jürgen") give the
full name in either order, the surname alone, and initials *with* the surname
("J. Müller", "Müller, J.", "jmueller"); an initial never stands alone. The
first name alone is a term only for a registered name, never for an alias: an
alias's first word may be anything ("Big Al", or an organisation registered as
an alias that nothing recognised as one).

Organisation names ("Operator A GmbH") give the whole phrase with and without
its legal form, and the words run together ("OperatorA"); never a word alone.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from functools import lru_cache

from filters.match_types import Policy
from filters.normalise import fold, german_variants

Tokens = tuple[str, ...]
TermForm = tuple[Tokens, Policy]

TOKEN = re.compile(r"[a-z0-9]+")
TRIE_END = ""  # trie key of a node's entry (tokens are never empty)


def words(text: str) -> frozenset[str]:
    return frozenset(text.split())


def tokens_of(text: str) -> Tokens:
    return tuple(TOKEN.findall(fold(text)))


def letters(tokens: Tokens) -> int:
    return sum(map(len, tokens))


def _bars(text: str) -> list[str]:
    return text.split("|")


NAME_PARTICLES = words(
    "van von der den de del della des di da das dos du la le ter ten zu zum zur af al el bin ibn"
)
_PARTICLE_PARTS = frozenset((particle,) for particle in NAME_PARTICLES)
NAME_TITLES = words(
    "dr prof mr mrs ms mx ing dipl mag sir dame herr frau mme mlle sr sra dott phd msc"
)
# Legal forms stripped from organisation names; "Operator A GmbH" is also "Operator A".
LEGAL_SUFFIXES: tuple[Tokens, ...] = tuple(
    tuple(suffix.split())
    for suffix in _bars(
        "gmbh co kg|gmbh|mbh|ag|kg|kgaa|ohg|ug|e v|ev|se|s a|sa|s p a|spa|s r l|srl|s l|sl|"
        "s a s|sas|sasu|sarl|s a r l|eurl|snc|gie|ltd|limited|inc|incorporated|corp|"
        "corporation|co|company|llc|llp|lp|plc|pty ltd|pty|b v|bv|n v|nv|bvba|sprl|scrl|asbl|"
        "vzw|oy|oyj|ab|ab publ|as|asa|a s|aps|a p s|s r o|sro|sp z o o|spzoo|kft|zrt|nyrt|"
        "d o o|doo|d d|ad|ead|lda|sgps|a e|ae|ike|epe"
    )
)
LEGAL_SUFFIX_WORDS = frozenset(token for suffix in LEGAL_SUFFIXES for token in suffix)
_LONGEST_SUFFIX_FIRST = sorted(LEGAL_SUFFIXES, key=len, reverse=True)


def _suffix_trie() -> dict[str, dict]:
    root: dict[str, dict] = {}
    for suffix in LEGAL_SUFFIXES:
        node = root
        for token in suffix:
            node = node.setdefault(token, {})
        node[TRIE_END] = {}
    return root


SUFFIX_TRIE = _suffix_trie()


def strip_legal_suffix(tokens: Tokens) -> Tokens:
    changed = True
    while changed and len(tokens) > 1:
        changed = False
        for suffix in _LONGEST_SUFFIX_FIRST:
            if len(tokens) > len(suffix) and tokens[-len(suffix) :] == suffix:
                tokens = tokens[: -len(suffix)]
                changed = True
                break
    return tokens


def name_parts(name: str) -> list[Tokens]:
    """Folded name parts (each a token tuple), given name first, titles dropped."""
    if "," in name:  # "Müller, Jürgen" as registered: surname first
        surname, _, given = name.partition(",")
        name = f"{given} {surname}"
    parts = [tuple(TOKEN.findall(word)) for word in fold(name).split(" ")]
    parts = [part for part in parts if part]
    while len(parts) > 1 and len(parts[0]) == 1 and parts[0][0] in NAME_TITLES:
        parts = parts[1:]
    return parts


def name_terms(name: str) -> Iterator[tuple[Tokens, Policy, bool]]:
    """(tokens, policy, is_first_name) for every form of a registered person name."""
    for variant in german_variants(name):
        parts = name_parts(variant)
        if not parts:
            continue
        full = tuple(token for part in parts for token in part)
        if len(parts) == 1:
            yield full, Policy.STRONG if letters(full) >= 4 else Policy.QUIET, False
            continue
        yield full, Policy.STRONG, False
        # A surname of one letter ("Jürgen M.") is an initial: no forms built on it.
        yield from _surname_forms(parts, min_surname=2, with_first_initial=True)
        first = parts[0]
        if letters(first) >= 4:
            yield first, Policy.CAPITALISED, True
            if len(first) == 1 and first[0][-1] not in "sxz":  # "Jürgens Mail"
                yield (first[0] + "s",), Policy.QUIET, False
        elif letters(first) >= 2 and not _initials(first):
            yield first, Policy.FLAG_ONLY, True
        for middle in parts[1 : _surname_start(parts)]:
            if letters(middle) >= 4:
                yield middle, Policy.CAPITALISED, False
            elif letters(middle) >= 2 and not _initials(middle):
                yield middle, Policy.FLAG_ONLY, False


def alias_name_terms(alias: str) -> Iterator[TermForm]:
    """Terms of a multi-word alias that names a person ("Dmitry Ivanov").

    The full name in any case; the surname forms only when its last word is a
    real surname (4+ letters); never the first word alone, never initials.
    """
    for variant in german_variants(alias):
        parts = name_parts(variant)
        if not parts:
            continue
        yield tuple(token for part in parts for token in part), Policy.STRONG
        if len(parts) > 1:
            for tokens, policy, _ in _surname_forms(parts, min_surname=4, with_first_initial=False):
                yield tokens, policy


def nickname_terms(alias: str) -> Iterator[TermForm]:
    """A one-word alias that names a person ("Hansi", "amueller").

    It was registered because it identifies someone, so it is redacted in any
    case; one of two or three letters ("Max", "Jan", "Ben") is also an ordinary
    word or a month, and is redacted only when capitalised (flagged otherwise).
    """
    for variant in german_variants(alias):
        tokens = tokens_of(variant)
        if tokens:
            yield tokens, Policy.STRONG if letters(tokens) >= 4 else Policy.CAPITALISED


def _initials(part: Tokens) -> bool:
    return min(map(len, part)) < 2


def _surname_start(parts: list[Tokens]) -> int:
    """Index of the first part of the surname group ("van der Berg")."""
    start = len(parts) - 1
    while start > 1 and parts[start - 1] in _PARTICLE_PARTS:
        start -= 1
    return start


def _surname_forms(
    parts: list[Tokens], *, min_surname: int, with_first_initial: bool
) -> Iterator[tuple[Tokens, Policy, bool]]:
    """Forms built on the surname: alone, after initials, reversed, as a local part."""
    surname_start = _surname_start(parts)
    first, core = parts[0], parts[-1]
    group = tuple(token for part in parts[surname_start:] for token in part)
    if surname_start > 1:  # "Jürgen Müller" for "Jürgen M. Müller": still the whole name
        yield first + core, Policy.STRONG, False
        yield first + group, Policy.STRONG, False
    if letters(core) < min_surname or _initials(core):
        return
    core_strong = letters(core) >= 4
    pair_policy = Policy.STRONG if core_strong else Policy.QUIET
    yield group, pair_policy, False
    yield core, pair_policy, False
    if len(core) > 1:  # "Müller-Lüdenscheidt": either half alone
        for token in core:
            if len(token) >= 4:
                yield (token,), Policy.STRONG, False
    # German and Dutch genitives glue an "s" on: "Müllers Bericht".
    if len(core) == 1 and core_strong and core[0][-1] not in "sxz":
        yield (core[0] + "s",), Policy.STRONG, False
    initials = tuple(token[0] for token in first)
    yield initials + core, pair_policy, False  # J. Müller, H.-P. Müller
    yield initials + group, pair_policy, False
    yield core + initials, pair_policy, False  # Müller, J.
    yield core + first, Policy.STRONG, False  # Müller, Jürgen / MÜLLER Jürgen
    if with_first_initial and not _initials(first):  # "Jürgen M.", never "J. M."
        yield (*first, core[0][0]), pair_policy if letters(first) >= 4 else Policy.QUIET, False
    if core_strong:  # the usual address local parts: jmueller, juergenmueller, muellerj
        joined_core = "".join(core)
        yield ("".join(initials) + joined_core,), Policy.STRONG, False
        yield ("".join(first) + joined_core,), Policy.STRONG, False
        yield (joined_core + "".join(initials),), Policy.STRONG, False


def skeleton_name_terms(name: str, *, from_alias: bool = False) -> Iterator[TermForm]:
    """Terms for the transliteration-skeleton trie: full names any case, long
    surnames (and, for registered names, given names) only when capitalised."""
    parts = name_parts(name)
    if len(parts) < 2:
        return
    yield tuple(token for part in parts for token in part), Policy.STRONG
    yield parts[0] + parts[-1], Policy.STRONG
    for part in (parts[-1],) if from_alias else (parts[0], parts[-1]):
        if letters(part) >= 5:
            yield part, Policy.QUIET


@lru_cache(maxsize=65_536)
def organisation_terms(organisation: str) -> tuple[TermForm, ...]:
    """The whole name with and without its legal form, and its words run together."""
    return tuple(_organisation_term_forms(organisation))


def _organisation_term_forms(organisation: str) -> Iterator[TermForm]:
    for variant in german_variants(organisation):
        full = tokens_of(variant)
        if not full:
            continue
        stripped = strip_legal_suffix(full)
        for tokens in {full, stripped}:
            yield tokens, Policy.ACRONYM if letters(tokens) <= 3 else Policy.STRONG
        if len(stripped) > 1 and letters(stripped) >= 5:
            yield ("".join(stripped),), Policy.STRONG  # "OperatorA"
