"""The forms of an organisation domain, and the brand names in its labels.

A member domain is matched as itself and under it ("portal.soc.operator-a.example"),
in Unicode and in punycode (an IDN member domain is written either way), and
its distinctive labels ("operator-a", run together "operatora") are
organisation terms on their own, because people write them in prose.
"""

from __future__ import annotations

import contextlib
from functools import lru_cache

from filters.match_types import Policy
from filters.name_forms import TOKEN, TermForm, letters, words
from filters.normalise import fold
from filters.url_unwrap import url_host

# Domain labels too common to redact on their own (the full domain still is).
_COMMON_LABELS = words(
    "mail email post web www info home online cloud secure security group global portal "
    "corp intranet extranet soc cert csirt noc abuse admin support service services shop "
    "news bank data tech digital media energy power telecom network networks systems "
    "solutions mobile internet gov police health office team example test"
)


@lru_cache(maxsize=65_536)
def domain_terms(domain: str) -> tuple[frozenset[str], tuple[TermForm, ...]]:
    """A domain's folded forms, and the terms of its distinctive labels."""
    host = url_host(domain) if "/" in domain else domain
    if not host:
        return frozenset(), ()
    forms = domain_forms(host)
    terms: list[TermForm] = []
    for form in forms:
        for label in _brand_labels(form):
            tokens = tuple(TOKEN.findall(label))
            if not tokens or label in _COMMON_LABELS:
                continue
            policy = Policy.ACRONYM if letters(tokens) <= 3 else Policy.STRONG
            terms.append((tokens, policy))
            if len(tokens) > 1 and letters(tokens) >= 5:  # "operatora" for "operator-a"
                terms.append((("".join(tokens),), policy))
    return frozenset(forms), tuple(dict.fromkeys(terms))


@lru_cache(maxsize=65_536)
def domain_forms(domain: str) -> frozenset[str]:
    """A domain folded, in Unicode and in punycode (IDNA 2003 and 2008 style)."""
    domain = domain.strip().strip(".").lower()
    if not domain:
        return frozenset()
    labels = domain.split(".")
    unicode_labels = [decode_label(label) for label in labels]
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


def decode_label(label: str) -> str:
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
