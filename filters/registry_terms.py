"""Compiling a member registry into lookup tables and token tries (CHATHAM_HOUSE.md §5.1).

`compile_registry()` turns every member's names, addresses, organisation,
organisation domains and aliases into *terms*, once; the server caches the
result per registry version. Terms are tuples of folded word tokens, filed in
a token trie (dicts keyed by token) whose leaves are `Entry` values: the kind
of hit, its policy, and every member who registered it. Structured things go
into tables instead: whole addresses and their local parts, domains in Unicode
and punycode, ASNs, IP prefixes, key fingerprints and phone numbers.

Aliases are classified first (`filters.alias_kinds`): technical ids go into the
tables or become whole-phrase ALIAS terms, organisation forms get the
organisation's phrase forms, and only aliases that name a person get name
forms (and never a first name or initials alone: `filters.name_forms`).
"""

from __future__ import annotations

import gc
import ipaddress
import re
from dataclasses import dataclass, field

from filters.alias_kinds import AliasContext, AliasKind, classify_alias
from filters.domain_forms import decode_label, domain_forms, domain_terms
from filters.identities import Identity, Registry
from filters.match_types import KIND_RANK, HitKind, Policy
from filters.name_forms import (
    TOKEN,
    TRIE_END,
    Tokens,
    alias_name_terms,
    letters,
    name_parts,
    name_terms,
    nickname_terms,
    organisation_terms,
    skeleton_name_terms,
    tokens_of,
    words,
)
from filters.normalise import fold, skeleton
from filters.phone_patterns import phone_forms
from filters.url_unwrap import url_host

# Local parts that name a role, not a person; they stay terms only as whole addresses.
_ROLE_LOCAL_PARTS = words(
    "abuse admin administrator cert contact csirt help helpdesk hostmaster info mail noc "
    "noreply no-reply office postmaster security soc support team webmaster"
)
_ASN_ALIAS = re.compile(r"(?i)AS(?:N)?[\s-]?(\d{1,10})")
_FINGERPRINT_ALIAS = re.compile(r"(?i)(?:0x)?(?:[0-9a-f]{16}|[0-9a-f]{40}|[0-9a-f]{64})")
_PHONE_ALIAS = re.compile(r"\+?[\d\s()./-]{6,}")
_DOMAIN_ALIAS = re.compile(r"[\w-]+(?:\.[\w-]+)*\.[a-z]{2,63}")

Address = ipaddress.IPv4Address | ipaddress.IPv6Address


@dataclass(frozen=True, slots=True)
class Entry:
    """What a term stands for: merged over every identity that registered it."""

    kind: HitKind
    policy: Policy
    keys: frozenset[str]


Trie = dict[str, "Trie | Entry"]


@dataclass(slots=True)
class CompiledRegistry:
    trie: Trie = field(default_factory=dict)
    skeleton_trie: Trie = field(default_factory=dict)
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

    def member_address(self, local: str, domain: str) -> frozenset[str] | None:
        """Keys of a folded address that is a member's (empty: a member we cannot name)."""
        keys = self.addresses.get(f"{local}@{domain}")
        if keys is not None:
            return keys
        if self.member_domain(domain) is not None:
            return self.local_parts.get(local, frozenset())
        return self.local_parts.get(local)

    def member_domain(self, host: str) -> frozenset[str] | None:
        """Keys of the member whose domain `host` is, or lies under."""
        host = host.strip(".").lower()
        labels = host.split(".")
        decoded = fold(".".join(decode_label(label) for label in labels))
        for candidate in {host, fold(host), decoded}:
            parts = candidate.split(".")
            for index in range(len(parts) - 1):
                keys = self.domains.get(".".join(parts[index:]))
                if keys is not None:
                    return keys
        return None

    def member_ip(self, address: Address) -> frozenset[str] | None:
        by_length = self.networks.get(address.version)
        if not by_length:
            return None
        bits = address.max_prefixlen
        value = int(address)
        for length, networks in by_length.items():
            keys = networks.get(value >> (bits - length) << (bits - length))
            if keys is not None:
                return keys
        return None

    def member_url(self, url: str) -> frozenset[str] | None:
        host = url_host(url)
        if host is None:
            return None
        address = parse_address(host)
        if address is not None:
            return self.member_ip(address)
        return self.member_domain(host)


def compile_registry(registry: Registry) -> CompiledRegistry:
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
        for node in builder.drafts:  # every draft becomes its immutable entry
            draft = node[TRIE_END]
            node[TRIE_END] = Entry(draft.kind, draft.policy, frozenset(draft.keys))
        _freeze_tables(builder.compiled)
    finally:
        if collecting:
            gc.enable()
    return builder.compiled


def _add(table: dict, key: object, identity_key: str) -> None:
    """Add a member to a lookup table (sets while compiling, frozen after)."""
    keys = table.get(key)
    if keys is None:
        keys = table[key] = set()
    keys.add(identity_key)


def _freeze_tables(compiled: CompiledRegistry) -> None:
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

    def __init__(self, kind: HitKind, policy: Policy) -> None:
        self.kind = kind
        self.policy = policy
        self.keys: set[str] = set()

    def add(self, kind: HitKind, policy: Policy, key: str) -> None:
        if KIND_RANK[kind] > KIND_RANK[self.kind]:
            self.kind = kind
        if policy > self.policy:
            self.policy = policy
        self.keys.add(key)


def _insert(
    trie: dict, tokens: Tokens, kind: HitKind, policy: Policy, key: str, drafts: list
) -> None:
    if not tokens or letters(tokens) < 2:
        return
    node = trie
    for token in tokens:
        child = node.get(token)
        if child is None:
            child = node[token] = {}
        node = child
    draft = node.get(TRIE_END)
    if draft is None:
        draft = node[TRIE_END] = _Draft(kind, policy)
        drafts.append(node)
    draft.add(kind, policy, key)


class _Builder:
    """Collects one identity's terms (deduplicated), then files them in the tries."""

    def __init__(self) -> None:
        self.compiled = CompiledRegistry()
        self._terms: dict[Tokens, tuple[HitKind, Policy]] = {}
        self._skeletons: dict[Tokens, Policy] = {}
        self.drafts: list[dict] = []  # trie nodes whose entry is still a _Draft

    def term(self, tokens: Tokens, kind: HitKind, policy: Policy) -> None:
        known = self._terms.get(tokens)
        if known is not None:
            if KIND_RANK[known[0]] > KIND_RANK[kind]:
                kind = known[0]
            policy = max(policy, known[1])
        self._terms[tokens] = (kind, policy)

    def skeleton_term(self, tokens: Tokens, policy: Policy) -> None:
        skeletal = tuple(skeleton(token) for token in tokens)
        self._skeletons[skeletal] = max(policy, self._skeletons.get(skeletal, policy))

    def identity(self, identity: Identity) -> None:
        key = identity.key
        self._terms, self._skeletons = {}, {}
        first_names: set[Tokens] = set()
        for name in identity.names:
            for tokens, policy, is_first in name_terms(name):
                self.term(tokens, HitKind.PERSON, policy)
                if is_first:
                    first_names.add(tokens)
            for tokens, policy in skeleton_name_terms(name):
                self.skeleton_term(tokens, policy)
        for address in identity.addresses:
            self.address(address, key, first_names)
        if identity.organisation:
            self.organisation(identity.organisation)
        domain_labels = [
            label for domain in identity.org_domains for label in self.domain(domain, key)
        ]
        context = AliasContext.of(identity, domain_labels)
        for alias in identity.aliases:
            self.alias(alias, key, context)
        for tokens, (kind, policy) in self._terms.items():
            _insert(self.compiled.trie, tokens, kind, policy, key, self.drafts)
        for tokens, policy in self._skeletons.items():
            _insert(self.compiled.skeleton_trie, tokens, HitKind.PERSON, policy, key, self.drafts)

    def organisation(self, organisation: str) -> None:
        for tokens, policy in organisation_terms(organisation):
            self.term(tokens, HitKind.ORGANISATION, policy)

    def address(self, address: str, key: str, first_names: set[Tokens]) -> None:
        address = address.strip().strip("<>")
        if "@" not in address:
            return
        local, _, domain = address.rpartition("@")
        folded_local = fold(local)
        for form in domain_forms(domain):
            _add(self.compiled.addresses, f"{folded_local}@{form}", key)
        tokens = tuple(TOKEN.findall(folded_local))
        if not tokens or folded_local in _ROLE_LOCAL_PARTS:
            return
        if tokens in first_names:
            # "alice@…": the local part is just the first name; same policy.
            self.term(tokens, HitKind.PERSON, Policy.CAPITALISED)
        elif letters(tokens) >= 4:
            self.term(tokens, HitKind.ADDRESS, Policy.STRONG)
            _add(self.compiled.local_parts, folded_local, key)

    def domain(self, domain: str, key: str) -> list[Tokens]:
        """Register a domain's forms; return the token tuples of its labels."""
        forms, label_terms = domain_terms(domain)
        for form in forms:
            _add(self.compiled.domains, form, key)
        for tokens, policy in label_terms:
            self.term(tokens, HitKind.ORGANISATION, policy)
        return [tokens for tokens, _ in label_terms]

    def alias(self, alias: str, key: str, context: AliasContext) -> None:
        alias = alias.strip()
        if not alias or self.technical_alias(alias, key):
            return
        tokens = tokens_of(alias)
        if not tokens:
            return
        kind = classify_alias(alias, context)
        if kind is AliasKind.ORGANISATION:
            self.organisation(alias)
        elif kind is AliasKind.PERSON and len(name_parts(alias)) > 1:
            for name_tokens, policy in alias_name_terms(alias):
                self.term(name_tokens, HitKind.PERSON, policy)
            for skeletal, policy in skeleton_name_terms(alias, from_alias=True):
                self.skeleton_term(skeletal, policy)
        elif kind is AliasKind.PERSON:
            for nickname, policy in nickname_terms(alias):
                if alias.isupper() and letters(nickname) <= 3:
                    policy = Policy.ACRONYM  # initials in capitals: "JM"
                self.term(nickname, HitKind.PERSON, policy)
        else:
            self.term(
                tokens, HitKind.ALIAS, Policy.STRONG if letters(tokens) > 3 else Policy.ACRONYM
            )

    def technical_alias(self, alias: str, key: str) -> bool:
        """File an ASN, prefix, fingerprint, phone number, address or domain alias."""
        compiled = self.compiled
        if asn := _ASN_ALIAS.fullmatch(alias):
            _add(compiled.asns, int(asn.group(1)), key)
            return True
        if network := parse_network(alias):
            by_length = compiled.networks.setdefault(network.version, {})
            _add(by_length.setdefault(network.prefixlen, {}), int(network.network_address), key)
            return True
        compact = re.sub(r"[\s:]", "", alias)
        if _FINGERPRINT_ALIAS.fullmatch(compact):
            hexdigits = compact.lower().removeprefix("0x")
            _add(compiled.fingerprints, hexdigits, key)
            if len(hexdigits) == 40:  # OpenPGP v4: long and short key ids are its tail
                _add(compiled.fingerprints, hexdigits[-16:], key)
                _add(compiled.fingerprints, hexdigits[-8:], key)
            return True
        if _PHONE_ALIAS.fullmatch(alias) and sum(char.isdigit() for char in alias) >= 6:
            for e164, national in phone_forms(alias):
                _add(compiled.phones, e164, key)
                _add(compiled.phone_nationals, national, key)
                if len(national) not in compiled.phone_national_lengths:
                    compiled.phone_national_lengths.append(len(national))
            return True
        if "@" in alias and " " not in alias:
            self.address(alias, key, set())
            return True
        if "://" in alias or _DOMAIN_ALIAS.fullmatch(alias.lower()):
            self.domain(alias, key)
            return True
        return False


def parse_network(text: str) -> ipaddress.IPv4Network | ipaddress.IPv6Network | None:
    try:
        return ipaddress.ip_network(text.strip(), strict=False)
    except ValueError:
        return None


def parse_address(text: str) -> Address | None:
    if not text or not (text[0].isdigit() or ":" in text):
        return None  # a host name: spare the two exceptions ip_address() would raise
    try:
        return ipaddress.ip_address(text)
    except ValueError:
        return None
