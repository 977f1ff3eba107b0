"""Issue 2 units: address normalisation and CSV import errors."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import func, select

from listserv import registry
from listserv.addresses import normalise_address
from listserv.db import Database
from listserv.errors import AlreadyExists, InvalidInput
from listserv.models import Member


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        ("alice@operator-a.example", "alice@operator-a.example"),
        ("  Alice@Operator-A.EXAMPLE ", "alice@operator-a.example"),
        ("JÜRGEN@betreiber-b.example", "jürgen@betreiber-b.example"),
        ("jm@BÜCHER-netz.example", "jm@bücher-netz.example"),
        ("first.last+tag@cert.example", "first.last+tag@cert.example"),
    ],
)
def test_addresses_are_normalised(given: str, expected: str) -> None:
    assert normalise_address(given) == expected


@pytest.mark.parametrize(
    ("given", "problem"),
    [
        ("", "an e-mail address is required"),
        ("alice", "is not an e-mail address"),
        ("alice@", "is not an e-mail address"),
        ("a@@b.example", "is not an e-mail address"),
        ("alice@localhost", "is not an e-mail address"),
        ("two words@example.org", "is not an e-mail address"),
    ],
)
def test_malformed_addresses_are_refused_with_the_reason(given: str, problem: str) -> None:
    with pytest.raises(InvalidInput, match=problem):
        normalise_address(given)


GOOD_CSV = (
    "email,name,org,org_domains,role\n"
    "alice@operator-a.example,Alice Müller,Operator A GmbH,operator-a.example op-a.example,owner\n"
    "BOB@operator-b.example,Bob Brown,Operator B,operator-b.example,\n"
    "\n"
    "carol@cert-c.example,Carol,,,moderator\n"
)


def test_a_good_csv_parses_every_row() -> None:
    members = registry.parse_member_csv(GOOD_CSV)
    assert [m.email for m in members] == [
        "alice@operator-a.example",
        "bob@operator-b.example",
        "carol@cert-c.example",
    ]
    assert members[0].org_domains == ("operator-a.example", "op-a.example")
    assert [m.role.value for m in members] == ["owner", "member", "moderator"]


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("name,org\nAlice,A\n", "row 1: the header must name the columns"),
        ("email,name,shoe_size\na@b.example,A,42\n", "row 1: unknown column 'shoe_size'"),
        (
            "email,name,org,org_domains,role\na@b.example,A,,,\nnot-an-address,B,,,\n",
            "row 3: 'not-an-address' is not an e-mail address",
        ),
        (
            "email,name,org,org_domains,role\na@b.example,A,,,chief\n",
            "row 2: role must be member, moderator or owner",
        ),
        (
            "email,name,org,org_domains,role\na@b.example,A,,not a domain,\n",
            "row 2: 'not' is not a domain name",
        ),
        (
            "email,name,org,org_domains,role\na@b.example,A,,,\nA@B.example,B,,,\n",
            "row 3: a@b.example is already on row 2",
        ),
        ("email,name\na@b.example,A,extra\n", "row 2: more fields than the header"),
    ],
)
def test_bad_csv_names_the_row_and_the_reason(text: str, message: str) -> None:
    with pytest.raises(InvalidInput) as refused:
        registry.parse_member_csv(text)
    assert str(refused.value).startswith(message)


async def test_a_bad_csv_imports_nothing(tmp_path: Path) -> None:
    db = Database(f"sqlite:///{tmp_path / 'db.sqlite'}")
    await db.migrate()
    async with db.transaction() as session:
        created = await registry.create_list(session, "ciso@lists.example")
    bad = "email,name,org,org_domains,role\nok@one.example,One,,,\nbroken@,Two,,,\n"

    async def import_bad_file() -> None:
        async with db.transaction() as session:
            found = await registry.get_list(session, created.address)
            await registry.import_members(session, found, registry.parse_member_csv(bad))

    with pytest.raises(InvalidInput):
        await import_bad_file()
    async with db.session() as session:
        assert await session.scalar(select(func.count()).select_from(Member)) == 0
    await db.dispose()


async def test_reimporting_updates_and_adding_twice_is_refused(tmp_path: Path) -> None:
    db = Database(f"sqlite:///{tmp_path / 'db.sqlite'}")
    await db.migrate()
    async with db.transaction() as session:
        created = await registry.create_list(session, "ciso@lists.example")
        first = await registry.import_members(session, created, registry.parse_member_csv(GOOD_CSV))
        again = await registry.import_members(session, created, registry.parse_member_csv(GOOD_CSV))
        with pytest.raises(AlreadyExists):
            await registry.add_member(
                session, created, registry.member_details("Alice@Operator-A.example")
            )
    assert (first.added, first.updated) == (3, 0)
    assert (again.added, again.updated) == (0, 3)
    async with db.session() as session:
        identities = (await registry.load_registry(session)).identities
    alice = next(i for i in identities if i.key == "alice@operator-a.example")
    assert alice.names == ("Alice Müller",)
    assert alice.organisation == "Operator A GmbH"
    assert alice.org_domains == ("operator-a.example", "op-a.example")
    await db.dispose()
