"""Finding registry terms in a folded text by walking the token tries.

The folded text (`filters.normalise`) is cut into word tokens once, and the
trie of all terms (`filters.registry_terms`) is walked from every token that
starts a term; two tokens of a term may be separated in the text by up to
three characters of space or light punctuation, so "J. Müller", "Müller,
Jürgen", "Operator\\nA" and "operator-a" all match. A second trie holds
transliteration skeletons of names ("Dmitrij Iwanow" = "Dmitry Ivanov").

Why a token trie and not one big regex: registry terms are whole words, so
tokenising once gives Unicode word boundaries for free and makes a text cost
one dict lookup per token, whatever the registry size; the walk from a token
stops at the first token that continues no term, so the cost is linear in the
text. A Python `re` alternation of ~10^5 terms compiles slowly and is tried at
every character.

A hit becomes a redaction, a flag, or nothing, by the term's policy and by how
the text writes it (filters/matching.py has the table).
"""

from __future__ import annotations

import re
from array import array
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from itertools import accumulate

from filters.flags import FlagKind
from filters.match_types import Finding, HitAction, HitKind, Policy
from filters.name_forms import SUFFIX_TRIE, TRIE_END, letters
from filters.normalise import Normalised, skeleton
from filters.registry_terms import CompiledRegistry, Entry, Trie

_SEPARATORS = re.compile(r"([^a-z0-9]+)")
# Separators allowed between two tokens of a term: "J. Müller", "Müller, J.",
# "operator-a", "alice.mueller", "AT&T", a name wrapped over a line.
_LOOSE_SEPARATOR = re.compile(r"[ \-.,_'&+]{1,3}")


@dataclass(frozen=True, slots=True)
class TextTokens:
    """The word tokens of a folded text, with their positions in it."""

    folded: str
    words: list[str]
    starts: Sequence[int]  # machine-integer arrays: a 2 MB text has 700,000 offsets
    ends: Sequence[int]

    @classmethod
    def of(cls, folded: str) -> TextTokens:
        # One split with a captured separator, and running lengths: several times
        # cheaper than a match object per token. pieces = [word, sep, word, …].
        pieces = _SEPARATORS.split(folded)
        offsets = array("q", accumulate(map(len, pieces), initial=0))
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


def term_findings(
    compiled: CompiledRegistry, text: str, view: Normalised, tokens: TextTokens | None = None
) -> Iterator[Finding]:
    """Every hit of a registry term in `view` (the folded `text`)."""
    tokens = tokens or TextTokens.of(view.text)
    walks: list[tuple[Trie, list[str]]] = [(compiled.trie, tokens.words)]
    if compiled.skeleton_trie:
        skeletal = [skeleton(word) if word.isalpha() else word for word in tokens.words]
        walks.append((compiled.skeleton_trie, skeletal))
    for trie, keys in walks:
        roots = [index for index, key in enumerate(keys) if key in trie]
        yield from _walk(text, view, tokens, trie, keys, roots)


def _walk(
    text: str,
    view: Normalised,
    tokens: TextTokens,
    trie: Trie,
    keys: list[str],
    roots: list[int],
) -> Iterator[Finding]:
    count = len(keys)
    for first in roots:
        node = trie.get(keys[first])
        last = first
        while isinstance(node, dict):
            entry = node.get(TRIE_END)
            if isinstance(entry, Entry):
                finding = _term_finding(text, view, tokens, first, last, entry)
                if finding is not None:
                    yield finding
            last += 1
            if last == count or not tokens.loose(last - 1):
                break
            node = node.get(keys[last])


def _term_finding(
    text: str,
    view: Normalised,
    tokens: TextTokens,
    first: int,
    last: int,
    entry: Entry,
) -> Finding | None:
    starts, ends = tokens.starts, tokens.ends
    end_token = last
    if entry.kind is HitKind.ORGANISATION:
        end_token = _legal_suffix_end(tokens, last)
        # A legal form is written capitalised ("AS", "Co.", "GmbH"); "Operator A
        # as we saw" must not lose its "as".
        if end_token != last:
            suffix_start, suffix_end = view.original_span(starts[last + 1], ends[end_token])
            if not capitalised(text[suffix_start:suffix_end]):
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
    if policy is Policy.STRONG:
        action = HitAction.REDACT
    elif policy is Policy.CAPITALISED:
        action = HitAction.REDACT if capitalised(original) else HitAction.FLAG
    elif policy is Policy.QUIET:
        action = HitAction.REDACT if capitalised(original) else None
    elif policy is Policy.ACRONYM:
        flag_kind = FlagKind.ACRONYM
        whole_word = first == last
        action = HitAction.REDACT if whole_word and _upper_word(original) else HitAction.FLAG
    else:
        action = HitAction.FLAG
    if action is None:
        return None
    oracle_term = action is HitAction.REDACT or (
        policy is Policy.CAPITALISED and letters(tuple(tokens.words[first : last + 1])) >= 4
    )
    return Finding(
        start,
        end,
        action,
        entry.kind,
        entry.keys,
        flag_kind=flag_kind if action is HitAction.FLAG else None,
        oracle_term=oracle_term,
    )


def _legal_suffix_end(tokens: TextTokens, last: int) -> int:
    """Index of the last token of a legal form following an organisation name."""
    node = SUFFIX_TRIE
    end = last
    index = last + 1
    while index < len(tokens.words) and tokens.loose(index - 1):
        node = node.get(tokens.words[index])  # type: ignore[assignment]
        if node is None:
            break
        if TRIE_END in node:
            end = index
        index += 1
    return end


def capitalised(original: str) -> bool:
    for char in original:
        if char.isalpha():
            return not char.islower()
    return True


def _upper_word(original: str) -> bool:
    letters_only = [char for char in original if char.isalpha()]
    return bool(letters_only) and all(not char.islower() for char in letters_only)
