"""What a registered alias is: an organisation form, a person's name, or a technical id.

`Identity.aliases` are untyped: owners register "nicknames, transliterations,
organisation short forms, brand names, ASNs, IP prefixes, phone numbers, PGP
fingerprints" with `listserv member add --alias`, and the server adds a
member's second and further organisations there too. How an alias is matched
depends on what it is, so each one is classified when the registry is compiled:

- TECHNICAL: digit-heavy ids ("HRB 12345", "DE123456789"). Matched as the whole
  phrase, replaced by "[redacted]". (ASNs, prefixes, fingerprints, phone
  numbers, addresses and domains are recognised before this and go to their
  own tables in `filters.registry_terms`.)
- ORGANISATION: an alias that shares a distinctive word with the member's
  organisation or with a label of one of its domains ("Operator A" for
  "Operator A GmbH"), ends in a legal form ("Betreiber B AG"), contains a word
  that only organisations carry ("Hellas Telecom", "Stadtwerke Nord": this is
  what a member's second organisation looks like), or is written in capitals
  as an acronym ("OPA", "DTAG"). Matched as the whole phrase only, like the
  organisation's name, and replaced by "[member organisation]": never word by
  word, never as a first name or initials, so "the operator said" stays.
- PERSON: everything else: nicknames ("Hansi"), transliterated names ("Dmitry
  Ivanov"), and acronyms that are the initials of the member's name ("JM").

The order of the tests settles aliases that look like both: a word only
organisations carry wins ("Müller Consulting" for Hans Müller); then an alias
sharing a word with the member's name is the person unless all its distinctive
words are the organisation's ("Hans Müller" at "Müller GmbH" is the person,
"Müller" alone the firm). A legal form is tested after the name, because
"Sá", "Co" and "Ab" are surnames too.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from enum import Enum

from filters.identities import Identity
from filters.name_forms import (
    LEGAL_SUFFIX_WORDS,
    NAME_PARTICLES,
    NAME_TITLES,
    TOKEN,
    name_parts,
    strip_legal_suffix,
    tokens_of,
    words,
)
from filters.normalise import fold, german_variants, skeleton


class AliasKind(Enum):
    TECHNICAL = "technical"
    ORGANISATION = "organisation"
    PERSON = "person"


# Function words of the languages the lists are written in: sharing "the" or
# "und" with an organisation's name says nothing.
_STOP_WORDS = words(
    "the and for with from our your their und mit fur bei des dem den der die das ein eine "
    "les pour avec par une aux sur del los las por con una the per con gli dei della delle "
    "het een voor met och med och til fra"
)
# Words only organisations carry in their names (in the folded form, German
# umlauts contracted). A multi-word alias holding one is an organisation even
# when it shares nothing with the organisation registered first, which is what
# a member's second organisation looks like.
_ORGANISATION_WORDS = words(
    "agence agencia agency agenzia amministrazione autorita autoridad autorite authority "
    "bank banca banco banque behorde beratung bundesamt bureau cert company communications "
    "conseil consulting cooperative council csirt department dienste dienstleistungen energie "
    "energy federal foundation fundacion fondazione gesellschaft group groupe gruppe gruppo "
    "hochschule holding holdings industries institut institute instituto istituto international "
    "internet ministere ministerio ministero ministerium ministry municipality national netz "
    "netze netzwerk network networks operador operadora operateur operator operatore partners "
    "police polizei provider railway redes reseau reseaux reti servicios services servizi "
    "sistemi sistemas solutions stadtwerke stiftung systeme systems technologies telco telecom "
    "telecommunications telecomunicaciones telecomunicazioni telekom telekommunikation "
    "universidad universidade universita universitat universite university verband "
    "versorgung verwaltung werke"
)


def _distinctive(tokens: Iterable[str]) -> set[str]:
    """Skeletons of the tokens that can tell one organisation or person from another."""
    return {
        skeleton(token)
        for token in tokens
        if sum(char.isalpha() for char in token) >= 3
        and token not in _STOP_WORDS
        and token not in LEGAL_SUFFIX_WORDS
        and token not in NAME_PARTICLES
        and token not in NAME_TITLES
    }


def _variant_tokens(text: str) -> set[str]:
    return {token for variant in german_variants(text) for token in tokens_of(variant)}


@dataclass(frozen=True, slots=True)
class AliasContext:
    """What an identity's other fields say about the words of its aliases."""

    organisation_words: frozenset[str]
    name_words: frozenset[str]
    name_initials: frozenset[str]

    @classmethod
    def of(cls, identity: Identity, domain_labels: Iterable[tuple[str, ...]]) -> AliasContext:
        organisation = _distinctive(_variant_tokens(identity.organisation))
        organisation |= _distinctive(token for label in domain_labels for token in label)
        names: set[str] = set()
        initials: set[str] = set()
        for name in identity.names:
            names |= _distinctive(_variant_tokens(name))
            parts = name_parts(name)
            tokens = [token for part in parts for token in part]
            initials.add("".join(token[0] for token in tokens))
            initials.add("".join(token[0] for token in tokens if token not in NAME_PARTICLES))
        return cls(frozenset(organisation), frozenset(names), frozenset(initials))


def classify_alias(alias: str, context: AliasContext) -> AliasKind:
    """Whether a (non-structured) alias names an organisation, a person, or neither."""
    tokens = tokens_of(alias)
    alias_words = _distinctive(_variant_tokens(alias))
    if _is_acronym(alias):
        initials = fold("".join(char for char in alias if char.isalpha()))
        if initials in context.name_initials or alias_words & context.name_words:
            return AliasKind.PERSON  # "JM" for Jürgen Müller, or a name in capitals
        return AliasKind.ORGANISATION
    if _has_organisation_word(alias):
        return AliasKind.ORGANISATION  # "Müller Consulting", "Hellas Telecom"
    if alias_words & context.name_words and not alias_words <= context.organisation_words:
        return AliasKind.PERSON  # "Hans Müller", also when the firm is "Müller GmbH"
    if alias_words & context.organisation_words or strip_legal_suffix(tokens) != tokens:
        return AliasKind.ORGANISATION
    if any(char.isdigit() for char in alias):
        return AliasKind.TECHNICAL
    return AliasKind.PERSON


def _is_acronym(alias: str) -> bool:
    """Two to six capital letters, perhaps with dots or an ampersand ("OPA", "AT&T")."""
    letters_only = "".join(char for char in alias if char not in ".&-")
    return letters_only.isalpha() and letters_only.isupper() and 2 <= len(letters_only) <= 6


def _has_organisation_word(alias: str) -> bool:
    for variant in german_variants(alias):
        folded = fold(variant)
        if any(token in _ORGANISATION_WORDS for token in TOKEN.findall(folded)):
            return True
    return False
