"""The member registry and list context shared by the CHATHAM_HOUSE.md §6 cases."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from filters.deattribute import ArchiveContext
from filters.identities import Identity, Registry

EML_DIR = Path(__file__).resolve().parents[1] / "data" / "eml"

LIST_ADDRESS = "ciso@lists.example"
LIST_NAME = "CISO reference group"
LIST_KEY = b"ciso-list-key-for-tests-32-bytes"
OUR_URL_PREFIXES = ("https://lists.example/u/", "https://lists.example/signin/")
# Alice's fingerprint as she writes it under her signature.
ALICE_FINGERPRINT = "7A3F 19C2 55E0 8B41 D6A9  0C3E 4F21 B8D7 6E5A 9013"

REGISTRY = Registry(
    (
        Identity(
            key="alice",
            names=("Alice Müller",),
            addresses=("alice@operator-a.example", "a.mueller@operator-a.example"),
            organisation="Operator A GmbH",
            org_domains=("operator-a.example",),
            aliases=("Operator A", ALICE_FINGERPRINT, "AS64500", "198.51.100.0/24"),
        ),
        Identity(
            key="jurgen",
            names=("Jürgen Müller",),
            addresses=("jm@betreiber-b.example", "jmueller@betreiber-b.example"),
            organisation="Betreiber B",
            org_domains=("betreiber-b.example",),
        ),
        Identity(
            key="bob",
            names=("Bob Brown",),
            addresses=("bob@operator-b.example",),
            organisation="Operator B Ltd",
            org_domains=("operator-b.example",),
            aliases=("Operator B",),
        ),
        Identity(
            key="jose_martin",
            names=("José Martin",),
            addresses=("jose.martin@operateur-c.example",),
            organisation="Opérateur C",
            org_domains=("operateur-c.example",),
        ),
        Identity(
            key="jose_garcia",
            names=("José García",),
            addresses=("jgarcia@operador-d.example",),
            organisation="Operador D S.A.",
            org_domains=("operador-d.example",),
            aliases=("Operador D",),
        ),
        Identity(
            key="giulia",
            names=("Giulia Rossi",),
            addresses=("giulia.rossi@operatore-e.example",),
            organisation="Operatore E S.p.A.",
            org_domains=("operatore-e.example",),
            aliases=("Operatore E",),
        ),
        Identity(
            key="ioannis",
            names=("Ιωάννης Παπαδόπουλος",),
            addresses=("i.papadopoulos@hellas-telecom.example",),
            organisation="Hellas Telecom",
            org_domains=("hellas-telecom.example",),
            aliases=("Ioannis Papadopoulos",),
        ),
        Identity(
            key="dmitry",
            names=("Дмитрий Иванов",),
            addresses=("d.ivanov@svyaz-plus.example",),
            organisation="Svyaz Plus",
            org_domains=("svyaz-plus.example",),
            aliases=("Dmitry Ivanov",),
        ),
        Identity(
            key="lena",
            names=("Lena Vogelsang",),
            addresses=("lena.vogelsang@bücher-netz.example",),
            organisation="Bücher Netz AG",
            org_domains=("bücher-netz.example",),
        ),
    )
)


def make_ctx(**changes: object) -> ArchiveContext:
    """The list context of a post by Alice, who opened the thread (Participant A)."""
    values: dict[str, object] = {
        "list_address": LIST_ADDRESS,
        "list_name": LIST_NAME,
        "list_key": LIST_KEY,
        "received_at": datetime(2024, 9, 3, 8, 1, 31, tzinfo=UTC),
        "label": "TLP:AMBER",
        "author_key": "alice",
        "participants": {"alice": "Participant A"},
        "archived_references": frozenset(),
        "date_rounding": "hour",
        "our_url_prefixes": OUR_URL_PREFIXES,
    }
    values.update(changes)
    return ArchiveContext(**values)  # type: ignore[arg-type]
