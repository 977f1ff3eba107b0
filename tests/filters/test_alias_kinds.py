"""Typed handling of registry aliases (filters.alias_kinds, filters.registry_terms).

`Identity.aliases` are untyped: nicknames, transliterations, organisation short
forms, a member's further organisations, brand names and technical ids all go
there (listserv/registry.py `load_registry`, `listserv member add --alias`).
An organisation alias must be matched as the whole phrase and become
"[member organisation]", never a first name or initials; a nickname is the
person; a technical id keeps its old handling. Every redaction here also runs
the independent oracle (tests/oracle.py).
"""

from __future__ import annotations

from collections.abc import Mapping

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from filters.alias_kinds import AliasContext, AliasKind, classify_alias
from filters.domain_forms import domain_terms
from filters.flags import FlagKind
from filters.identities import Identity, Registry
from filters.matching import HitAction, HitKind, Redacted, RegistryMatcher
from tests.oracle import assert_text_clean

FINGERPRINT = "3F2A 9B1C 7D4E 5F60 8A9B  C0D1 E2F3 0415 2637 4859"

ALICE = Identity(
    key="alice",
    names=("Alice Müller",),
    addresses=("alice@operator-a.example",),
    organisation="Operator A GmbH",
    org_domains=("operator-a.example",),
    aliases=(
        "Operator A",  # organisation short form
        "OPA",  # acronym, three letters
        "DTAG",  # acronym, four letters
        "Betreiber X AG",  # a second organisation (load_registry puts it here)
        "Telekom Austria",  # another one, without a legal form
        "Hansi",  # nickname
        "AM",  # her initials in capitals
        "Big Al",  # a two-word nickname with a short last word
        "HRB 12345",  # digit-heavy id
        "AS64500",
        "198.51.100.0/24",
        "+49 30 1234567",
        FINGERPRINT,
    ),
)
YURI = Identity(
    key="yuri",
    names=("Юрий Гагарин",),
    addresses=("y.gagarin@vostok.example",),
    organisation="Vostok Telecom",
    org_domains=("vostok.example",),
    aliases=("Yuri Gagarin",),  # transliterated full name
)
HANS = Identity(
    key="hans",
    names=("Hans Müller",),
    addresses=("hans@mueller-consulting.example",),
    organisation="Müller Consulting GmbH",
    org_domains=("mueller-consulting.example",),
    aliases=("Hans Mueller", "Müller Beratung"),
)
JURGEN = Identity(key="jurgen", names=("Jürgen M.",))  # a surname given as an initial

REGISTRY = Registry((ALICE, YURI, HANS, JURGEN))
MATCHER = RegistryMatcher.compile(REGISTRY)
LABELS: Mapping[str, str] = {"alice": "Participant A", "yuri": "Participant B"}


def redact(text: str) -> Redacted:
    """Redact, then check the oracle and idempotence every time."""
    result = MATCHER.redact(text, LABELS)
    assert_text_clean([result.text], REGISTRY)
    assert_text_clean([str(flag) for flag in result.flags], REGISTRY)
    assert MATCHER.redact(result.text, LABELS).text == result.text
    return result


def context(identity: Identity) -> AliasContext:
    labels = [tokens for domain in identity.org_domains for tokens, _ in domain_terms(domain)[1]]
    return AliasContext.of(identity, labels)


# -- classification ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("identity", "alias", "kind"),
    [
        (ALICE, "Operator A", AliasKind.ORGANISATION),  # shares "operator" with the organisation
        (ALICE, "Opérateur A", AliasKind.ORGANISATION),  # "opérateur" is a firm's word
        (ALICE, "OPA", AliasKind.ORGANISATION),
        (ALICE, "DTAG", AliasKind.ORGANISATION),
        (ALICE, "Betreiber X AG", AliasKind.ORGANISATION),  # legal form
        (ALICE, "Fibra F S.p.A.", AliasKind.ORGANISATION),
        (ALICE, "Telekom Austria", AliasKind.ORGANISATION),  # a word only organisations carry
        (ALICE, "Stadtwerke Nord", AliasKind.ORGANISATION),
        (ALICE, "Hansi", AliasKind.PERSON),
        (ALICE, "AM", AliasKind.PERSON),  # her initials
        (ALICE, "MÜLLER", AliasKind.PERSON),  # her surname in capitals, no acronym
        (ALICE, "Big Al", AliasKind.PERSON),
        (ALICE, "HRB 12345", AliasKind.TECHNICAL),
        (ALICE, "DE123456789", AliasKind.TECHNICAL),
        (YURI, "Yuri Gagarin", AliasKind.PERSON),
        (YURI, "Vostok", AliasKind.ORGANISATION),  # a domain label
        (HANS, "Müller Consulting", AliasKind.ORGANISATION),  # all its words are the firm's
        (HANS, "Müller Beratung", AliasKind.ORGANISATION),  # "Beratung" is a firm's word
        (HANS, "Hans Mueller", AliasKind.PERSON),  # shares the name, not only the firm
        (
            Identity("sa", names=("José Sá Pereira",), organisation="Operador D"),
            "José Sá",  # "Sá" looks like the legal form "SA", but the name says who
            AliasKind.PERSON,
        ),
    ],
)
def test_aliases_are_classified(identity: Identity, alias: str, kind: AliasKind) -> None:
    assert classify_alias(alias, context(identity)) is kind


# -- the bug: an organisation alias was taken for a person's name ------------------


def test_an_organisation_alias_is_the_organisation_and_ordinary_words_stay() -> None:
    result = redact("At Operator A we saw, and the operator said, Operator said")
    assert result.text == "At [member organisation] we saw, and the operator said, Operator said"
    assert result.flags == ()
    hits = MATCHER.find("At Operator A we saw")
    assert [(hit.kind, hit.action, hit.identity_key) for hit in hits] == [
        (HitKind.ORGANISATION, HitAction.REDACT, "alice")
    ]
    assert MATCHER.identities_in("At Operator A we saw") == []


@pytest.mark.parametrize(
    "text",
    [
        "the operator said",
        "Operator said hi",
        "OPERATOR ERROR",
        "operators and Operators",
        "The network operator's NOC",
        "a telecom operator",
        "Telekom and Austria",
        "the Betreiber said",
        "big deal",
    ],
)
def test_ordinary_words_from_aliases_are_no_terms(text: str) -> None:
    assert redact(text).text == text
    assert MATCHER.find(text) == []
    assert not MATCHER.contains_registry_term(text)


@pytest.mark.parametrize(
    "text",
    ["O a", "O'a", "O.a", "O. A.", "OA", "o a", "T. A.", "B. Al", "Al", "Big"],
)
def test_initials_and_single_words_of_aliases_are_untouched(text: str) -> None:
    sentence = f"{text} said so"
    assert redact(sentence).text == sentence
    assert MATCHER.find(sentence) == []
    assert not MATCHER.contains_registry_term(sentence)


def test_attachment_text_with_the_word_operator_is_no_registry_hit() -> None:
    report = "The operator of the botnet rotated its C2. Operators should block it.\n" * 200
    assert not MATCHER.contains_registry_term(report)
    assert MATCHER.contains_registry_term(report + "Prepared by Operator A.")


@settings(max_examples=200, deadline=None)
@given(
    st.lists(
        st.sampled_from(
            [
                *("operator", "Operator", "OPERATORS", "O.", "O", "a", "A", "the", "big", "Al"),
                *(" ", " ", ", ", "'", ".", "-", "\n"),
            ]
        ),
        max_size=12,
    ).map("".join)
)
def test_words_of_an_organisation_alias_never_name_a_person(text: str) -> None:
    for hit in MATCHER.find(text):
        assert hit.kind is not HitKind.PERSON, text[hit.start : hit.end]


# -- organisation aliases get the organisation's variants ---------------------------


@pytest.mark.parametrize(
    "variant",
    [
        "Operator A",
        "operator a",
        "OPERATOR A",
        "Operator A AG",
        "Operator A S.A.",
        "Operator-A",
        "OperatorA",
        "Operator\nA",
        "Ope\u200brator A",
        "Оperator A",  # Cyrillic capital O
        "Betreiber X",
        "Betreiber X AG",
        "Telekom Austria",
        "TELEKOM AUSTRIA AG",
    ],
)
def test_organisation_aliases_are_redacted_in_their_variants(variant: str) -> None:
    assert redact(f"We at {variant} saw it.").text == "We at [member organisation] saw it."


def test_acronym_aliases_follow_the_acronym_rule() -> None:
    result = redact("OPA and DTAG saw it; opa (grandpa) and dtag did not.")
    assert result.text == (
        "[member organisation] and [member organisation] saw it; "
        "opa (grandpa) and [member organisation] did not."
    )
    # Three letters in lower case are an ordinary word: flagged, not redacted;
    # four letters are a registry term in any case (the oracle's rule).
    opa = result.text.index("opa")
    assert [(flag.kind, flag.detail) for flag in result.flags] == [
        (FlagKind.ACRONYM, f"characters {opa}-{opa + 3}")
    ]


# -- aliases that name a person ---------------------------------------------------------


@pytest.mark.parametrize("nickname", ["Hansi", "hansi", "HANSI", "Hansi's", "@Hansi"])
def test_a_nickname_is_redacted_in_any_case(nickname: str) -> None:
    result = redact(f"ask {nickname} about it")
    assert "ansi" not in result.text.lower()
    assert "Participant A" in result.text
    assert MATCHER.identities_in(f"ask {nickname} about it") == ["alice"]


def test_a_nickname_inside_a_longer_word_is_no_hit() -> None:
    assert redact("Hansidorf and Hansis").text == "Hansidorf and Hansis"


@pytest.mark.parametrize(
    "mention",
    [
        "Yuri Gagarin",
        "YURI GAGARIN",
        "Y. Gagarin",
        "Gagarin, Yuri",
        "Gagarin, Y",
        "Gagarin",
        "Юрий Гагарин",
        "Jurij Gagarin",
        "ygagarin",
    ],
)
def test_a_transliterated_name_alias_is_redacted(mention: str) -> None:
    assert redact(f"thanks to {mention} for the logs").text == (
        "thanks to Participant B for the logs"
    )


def test_a_short_last_word_of_a_name_alias_gives_no_surname_forms() -> None:
    assert redact("Big Al said, big al said").text == "Participant A said, Participant A said"
    assert redact("Al said, B. Al said").text == "Al said, B. Al said"


def test_initials_alias_in_capitals_is_the_person() -> None:
    result = redact("AM wrote it; am Montag")
    assert result.text == "Participant A wrote it; am Montag"
    assert [flag.kind for flag in result.flags] == [FlagKind.ACRONYM]


def test_name_and_firm_sharing_a_word() -> None:
    result = redact("Hans Mueller of Müller Consulting and Müller Beratung")
    assert result.text == "[participant] of [member organisation] and [member organisation]"


# -- initials of registered names only ever with a surname -------------------------------


def test_initials_of_registered_names_never_stand_alone() -> None:
    assert redact("J. said, J. M. said, Jürgen M. said").text == (
        "J. said, J. M. said, [participant]. said"
    )
    assert redact("A. said, A. M. agreed, A. Müller wrote").text == (
        "A. said, A. M. agreed, Participant A wrote"
    )


# -- technical aliases behave as before --------------------------------------------------


def test_technical_aliases_are_unchanged() -> None:
    text = (
        f"AS64500 announced 198.51.100.0/24 (198.51.100.7); key {FINGERPRINT}; "
        "HRB 12345; call +49 30 1234567"
    )
    result = redact(text)
    assert result.text == (
        "[redacted] announced [redacted] ([redacted]); key [redacted]; [redacted]; call [phone]"
    )
    assert result.flags == ()
    kinds = [hit.kind for hit in MATCHER.find(text)]
    assert kinds == [HitKind.ALIAS] * 5 + [HitKind.PHONE]
    assert MATCHER.contains_registry_term("company HRB 12345")
