"""Deterministic members, organisations and prose for the benchmarks.

Everything here is generated from fixed seeds, so two runs (and two commits)
measure the same people and the same words. Names mix several languages
(the model community is European), organisations look like operators and
CERTs, and text is drawn from a small incident-response vocabulary with a
Zipf-like skew, so full-text search meets both very common and rare terms.
"""

from __future__ import annotations

import itertools
import random
from dataclasses import dataclass

from anyascii import anyascii

from filters.identities import Identity, Registry


def _words(text: str) -> tuple[str, ...]:
    return tuple(text.split())


FIRST_NAMES = _words(
    """
    Alice Anna Bernd Bob Carla Carol Dario David Elena Emil Fatima Felix Greta Hannah Hugo Ines
    Ivan Jana Jonas Karin Kemal Lars Laura Lena Luca Maja Marek Maria Mikko Nadia Nils Olga Omar
    Paula Pedro Petra Rafael Sanna Sara Sofia Stefan Tomasz Ulla Valentina Viktor Wiebke Xavier
    Yusuf Zofia Ahmed Birgit Chiara Dmitri Eero Frida Giorgos Helga Ilse Joao
    """
)
LAST_NAMES = _words(
    """
    Müller Brown Jones Novak Rossi Dubois Kowalski Nielsen Virtanen Horvat Papadopoulos García
    Fischer Weber Schneider Bianchi Lefebvre Nowak Hansen Korhonen Kovač Silva Santos Jansen
    deVries Andersson Johansson Lindqvist Meyer Wagner Becker Hoffmann Schulz Koch Richter Klein
    Wolf Schröder Neumann Schwarz Zimmermann Braun Krüger Hofmann Hartmann Lange Schmitt Werner
    Krause Meier Lehmann Schmid Schulze Maier Köhler Herrmann König
    """
)
ORG_STEMS = _words(
    """
    Alpen Baltic Nordic Danube Iberia Helvetic Adriatic Carpathian Rhine Aegean Celtic Boreal
    Atlas Meridian Polar Vistula Tagus Loire Elbe Oder Sava Tisza Mosel Aare Inn Skagerrak
    Kattegat Biscay Ligurian Tyrrhenian Ionian Pannonia Lusatia Silesia Bohemia Moravia Flanders
    Wallonia Brabant Zeeland Frisia Jutland Scania Lapland Karelia Saimaa
    """
)
ORG_KINDS = ("Telecom GmbH", "Networks Ltd", "CERT", "Mobile AG", "Fibre SA", "Carrier AB")

# Words of an incident-response list, most frequent first (rank sets weight).
VOCABULARY = _words(
    """
    the of and to in we is for on that this with are be from at as have it by our not attack
    phishing malware traffic indicators customers network incident ransomware campaign domain
    domains address addresses block blocked report reports seen since hours today morning update
    patch vulnerability exploit exploited scanning botnet ddos amplification reflection udp tcp
    port ports bgp hijack prefix prefixes route announcement leak leaked credentials password
    reset mfa session token tokens vpn gateway firewall router routers edge core backbone
    peering transit abuse mailbox spam sender senders dkim dmarc spf spoofing lookalike
    registrar takedown sinkhole sinkholed c2 beacon beacons payload loader dropper stealer
    infostealer wiper lateral movement persistence privilege escalation kerberos ntlm ldap
    active directory endpoint edr logs siem query detection rule rules yara sigma hash hashes
    sha256 sample samples sandbox detonation analysis timeline containment eradication recovery
    forensic image memory disk volatile evidence chain custody law enforcement regulator
    notification gdpr nis2 deadline outage degraded latency packet loss capacity scrubbing
    mitigation upstream downstream customer impact severity critical high medium low confirmed
    suspected unconfirmed false positive ioc iocs feed feeds share sharing please advise anyone
    else seeing similar thanks regards question answer follow up call bridge meeting tomorrow
    weekend shift oncall rotation vendor firmware appliance cve advisory workaround hotfix
    rollback monitoring alert alerts
    """
)


@dataclass(frozen=True, slots=True)
class Person:
    email: str
    name: str
    organisation: str
    domain: str


def organisations(count: int, seed: int = 7) -> list[tuple[str, str]]:
    """(organisation name, its domain) pairs, all distinct."""
    rng = random.Random(seed)
    found: dict[str, str] = {}
    while len(found) < count:
        stem = rng.choice(ORG_STEMS)
        kind = rng.choice(ORG_KINDS)
        number = len(found)
        name = f"{stem} {kind}" if number < len(ORG_STEMS) else f"{stem} {number} {kind}"
        if name in found:
            continue
        domain = f"{stem.lower()}{number}.example"
        found[name] = domain
    return list(found.items())


def people(count: int, *, seed: int = 11, per_organisation: int = 25) -> list[Person]:
    """`count` members with distinct addresses, about `per_organisation` per organisation."""
    rng = random.Random(seed)
    orgs = organisations(max(1, -(-count // per_organisation)), seed=seed + 1)
    found: list[Person] = []
    for number in range(count):
        first = rng.choice(FIRST_NAMES)
        last = rng.choice(LAST_NAMES)
        organisation, domain = orgs[number % len(orgs)]
        local = anyascii(f"{first}.{last}.{number}").lower()
        found.append(Person(f"{local}@{domain}", f"{first} {last}", organisation, domain))
    return found


def registry_of(members: list[Person]) -> Registry:
    return Registry(
        tuple(
            Identity(
                key=person.email,
                names=(person.name,),
                addresses=(person.email,),
                organisation=person.organisation,
                org_domains=(person.domain,),
            )
            for person in members
        )
    )


class Prose:
    """Sentences from VOCABULARY, Zipf-weighted, from one seeded generator."""

    def __init__(self, seed: int) -> None:
        self._rng = random.Random(seed)
        weights = [1.0 / (rank + 1) ** 0.9 for rank in range(len(VOCABULARY))]
        self._cumulative = list(itertools.accumulate(weights))

    @property
    def rng(self) -> random.Random:
        return self._rng

    def words(self, count: int) -> list[str]:
        return self._rng.choices(VOCABULARY, cum_weights=self._cumulative, k=count)

    def sentence(self, low: int = 6, high: int = 18) -> str:
        words = self.words(self._rng.randint(low, high))
        return " ".join(words).capitalize() + "."

    def paragraph(self, sentences: int) -> str:
        return " ".join(self.sentence() for _ in range(sentences))

    def body(self, words: int) -> str:
        """About `words` words in paragraphs of three to five sentences."""
        paragraphs: list[str] = []
        total = 0
        while total < words:
            paragraph = self.paragraph(self._rng.randint(3, 5))
            paragraphs.append(paragraph)
            total += paragraph.count(" ") + 1
        return "\n\n".join(paragraphs)

    def subject(self) -> str:
        return " ".join(self.words(self._rng.randint(3, 7))).capitalize()
