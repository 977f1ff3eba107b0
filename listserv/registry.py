"""The member registry: lists and their members, as owners manage them.

Every change bumps `RegistryState.version`, which tells the running server's
caches (intake lookups, the compiled redaction matcher) to reload. Functions
here take a session and leave committing to the caller, so a CSV import is
one transaction: a bad row imports nothing.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Update, func, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col, select

from filters.identities import Identity, Registry
from filters.tlp import Tlp, parse_label
from listserv.addresses import normalise_address
from listserv.errors import AlreadyExists, InvalidInput, NotFound
from listserv.models import MailingList, Member, NonMemberPolicy, RedPolicy, RegistryState, Role

CSV_COLUMNS = ("email", "name", "org", "org_domains", "role")
OPTIONAL_CSV_COLUMNS = ("aliases",)


@dataclass(frozen=True, slots=True)
class MemberDetails:
    email: str
    name: str = ""
    organisation: str = ""
    org_domains: tuple[str, ...] = ()
    role: Role = Role.MEMBER
    aliases: tuple[str, ...] = field(default_factory=tuple)


def parse_role(text: str) -> Role:
    try:
        return Role(text.strip().lower() or Role.MEMBER.value)
    except ValueError:
        raise InvalidInput(f"role must be member, moderator or owner, not {text!r}") from None


def parse_floor(text: str) -> Tlp:
    label = parse_label(text)
    if label is None:
        raise InvalidInput(
            f"{text!r} is not a TLP label (use RED, AMBER+STRICT, AMBER, GREEN or CLEAR)"
        )
    return label


def normalise_domain(text: str) -> str:
    domain = text.strip().lower().rstrip(".")
    if domain.startswith("@"):
        domain = domain[1:]
    if not domain or "." not in domain or any(ch.isspace() or ch in "@/" for ch in domain):
        raise InvalidInput(f"{text!r} is not a domain name")
    try:
        return domain.encode("idna").decode("ascii") if not domain.isascii() else domain
    except UnicodeError:
        raise InvalidInput(f"{text!r} is not a domain name") from None


def version_bump() -> Update:
    """The statement that tells every cache of the registry to reload."""
    return (
        update(RegistryState)
        .where(col(RegistryState.id) == 1)
        .values(version=RegistryState.version + 1)
    )


async def bump_version(session: AsyncSession) -> None:
    await session.execute(version_bump())


async def registry_version(session: AsyncSession) -> int:
    version = await session.scalar(select(RegistryState.version).where(RegistryState.id == 1))
    return int(version or 0)


async def create_list(
    session: AsyncSession,
    address: str,
    *,
    name: str | None = None,
    floor: Tlp = Tlp.AMBER,
    nonmember_policy: NonMemberPolicy = NonMemberPolicy.HOLD,
    red_policy: RedPolicy = RedPolicy.ALLOW,
) -> MailingList:
    normalised = normalise_address(address)
    if "-" in normalised.split("@")[0] and normalised.split("@")[0].rsplit("-", 1)[1] in (
        "bounces",
        "owner",
        "request",
        "approve",
        "reject",
    ):
        raise InvalidInput(f"{normalised} ends in a suffix listserv reserves for its own addresses")
    if await find_list(session, normalised) is not None:
        raise AlreadyExists(f"the list {normalised} exists already")
    mailing_list = MailingList(
        address=normalised,
        name=(name or normalised.split("@")[0]).strip(),
        tlp_floor=floor.name,
        nonmember_policy=nonmember_policy.value,
        red_policy=red_policy.value,
    )
    session.add(mailing_list)
    await session.flush()
    await bump_version(session)
    return mailing_list


async def find_list(session: AsyncSession, address: str) -> MailingList | None:
    result = await session.scalars(
        select(MailingList).where(MailingList.address == address.lower())
    )
    return result.first()


async def get_list(session: AsyncSession, address: str) -> MailingList:
    normalised = normalise_address(address)
    found = await find_list(session, normalised)
    if found is None:
        raise NotFound(f"no list {normalised}; `listserv list create` makes one")
    return found


async def all_lists(session: AsyncSession) -> Sequence[MailingList]:
    return (await session.scalars(select(MailingList).order_by(MailingList.address))).all()


def member_details(
    email: str,
    *,
    name: str = "",
    organisation: str = "",
    org_domains: Iterable[str] = (),
    role: str = "member",
    aliases: Iterable[str] = (),
) -> MemberDetails:
    return MemberDetails(
        email=normalise_address(email),
        name=" ".join(name.split()),
        organisation=" ".join(organisation.split()),
        org_domains=tuple(dict.fromkeys(normalise_domain(d) for d in org_domains if d.strip())),
        role=parse_role(role),
        aliases=tuple(dict.fromkeys(" ".join(a.split()) for a in aliases if a.strip())),
    )


async def add_member(
    session: AsyncSession, mailing_list: MailingList, details: MemberDetails
) -> Member:
    if await find_member(session, mailing_list, details.email) is not None:
        raise AlreadyExists(f"{details.email} is already a member of {mailing_list.address}")
    member = _new_member(mailing_list, details)
    session.add(member)
    await session.flush()
    await bump_version(session)
    return member


def _new_member(mailing_list: MailingList, details: MemberDetails) -> Member:
    assert mailing_list.id is not None
    return Member(
        list_id=mailing_list.id,
        email=details.email,
        name=details.name,
        organisation=details.organisation,
        org_domains=list(details.org_domains),
        aliases=list(details.aliases),
        role=details.role.value,
    )


async def find_member(
    session: AsyncSession, mailing_list: MailingList, email: str
) -> Member | None:
    result = await session.scalars(
        select(Member).where(Member.list_id == mailing_list.id, Member.email == email.lower())
    )
    return result.first()


async def remove_member(session: AsyncSession, mailing_list: MailingList, email: str) -> None:
    normalised = normalise_address(email)
    member = await find_member(session, mailing_list, normalised)
    if member is None:
        raise NotFound(f"{normalised} is not a member of {mailing_list.address}")
    await session.delete(member)
    await session.flush()
    await bump_version(session)


async def list_members(session: AsyncSession, mailing_list: MailingList) -> Sequence[Member]:
    result = await session.scalars(
        select(Member).where(Member.list_id == mailing_list.id).order_by(col(Member.email))
    )
    return result.all()


async def count_members(session: AsyncSession, mailing_list: MailingList) -> int:
    count = await session.scalar(
        select(func.count()).select_from(Member).where(Member.list_id == mailing_list.id)
    )
    return int(count or 0)


def parse_member_csv(text: str) -> list[MemberDetails]:
    """Members from CSV text, or InvalidInput naming the first bad row.

    The header row names the columns (`email,name,org,org_domains,role`, in
    any order; `aliases` may follow). Domains and aliases are separated by
    spaces and semicolons respectively. Row numbers count the header as 1, as
    a spreadsheet shows them.
    """
    reader = csv.DictReader(io.StringIO(text.lstrip("\ufeff")))
    header = [name.strip().lower() for name in reader.fieldnames or []]
    if "email" not in header:
        raise InvalidInput(f"row 1: the header must name the columns {','.join(CSV_COLUMNS)}")
    unknown = [n for n in header if n not in CSV_COLUMNS + OPTIONAL_CSV_COLUMNS]
    if unknown:
        raise InvalidInput(
            f"row 1: unknown column {unknown[0]!r}; expected {','.join(CSV_COLUMNS)}"
        )
    reader.fieldnames = header
    members: list[MemberDetails] = []
    seen: dict[str, int] = {}
    for row_number, row in enumerate(reader, start=2):
        if None in row:
            raise InvalidInput(f"row {row_number}: more fields than the header has columns")
        values = {key: (value or "").strip() for key, value in row.items()}
        if not any(values.values()):
            continue
        try:
            details = member_details(
                values.get("email", ""),
                name=values.get("name", ""),
                organisation=values.get("org", ""),
                org_domains=values.get("org_domains", "").replace(",", " ").split(),
                role=values.get("role", ""),
                aliases=values.get("aliases", "").split(";"),
            )
        except InvalidInput as error:
            raise InvalidInput(f"row {row_number}: {error}") from None
        if details.email in seen:
            raise InvalidInput(
                f"row {row_number}: {details.email} is already on row {seen[details.email]}"
            )
        seen[details.email] = row_number
        members.append(details)
    return members


@dataclass(frozen=True, slots=True)
class ImportSummary:
    added: int
    updated: int


async def import_members(
    session: AsyncSession, mailing_list: MailingList, members: Sequence[MemberDetails]
) -> ImportSummary:
    """Add new members and update existing ones (re-importing a file is safe)."""
    existing = {m.email: m for m in await list_members(session, mailing_list)}
    added = updated = 0
    for details in members:
        member = existing.get(details.email)
        if member is None:
            session.add(_new_member(mailing_list, details))
            added += 1
            continue
        member.name = details.name or member.name
        member.organisation = details.organisation or member.organisation
        member.org_domains = list(details.org_domains) or member.org_domains
        member.aliases = list(dict.fromkeys([*member.aliases, *details.aliases]))
        member.role = details.role.value
        session.add(member)
        updated += 1
    await session.flush()
    await bump_version(session)
    return ImportSummary(added=added, updated=updated)


MEMBER_COLUMNS = (
    Member.id,
    Member.list_id,
    Member.email,
    Member.name,
    Member.organisation,
    Member.org_domains,
    Member.aliases,
    Member.role,
    Member.delivery_enabled,
    Member.moderated,
    Member.posts_accepted,
)


async def member_rows(session: AsyncSession) -> Sequence[Any]:
    """Every member as a plain row (no ORM objects: this is the big read)."""
    query = select(*MEMBER_COLUMNS).order_by(col(Member.id))  # type: ignore[call-overload]
    return (await session.execute(query)).all()


async def load_registry(session: AsyncSession) -> Registry:
    return registry_from_rows(await member_rows(session))


def registry_from_rows(rows: Iterable[Any]) -> Registry:
    """Every identity the server knows, across all lists, one per address.

    De-attribution redacts every known identity, not only the members of the
    list a post went to: a member of another list named in a post is still a
    participant of this community.
    """
    merged: dict[str, dict[str, list[str]]] = {}
    for row in rows:
        entry = merged.setdefault(
            row.email, {"names": [], "orgs": [], "domains": [], "aliases": []}
        )
        if row.name:
            entry["names"].append(row.name)
        if row.organisation:
            entry["orgs"].append(row.organisation)
        entry["domains"].extend(row.org_domains)
        entry["aliases"].extend(row.aliases)
    identities = []
    for email, entry in merged.items():
        organisations = list(dict.fromkeys(entry["orgs"]))
        identities.append(
            Identity(
                key=email,
                names=tuple(dict.fromkeys(entry["names"])),
                addresses=(email,),
                organisation=organisations[0] if organisations else "",
                org_domains=tuple(dict.fromkeys(entry["domains"])),
                aliases=tuple(dict.fromkeys([*organisations[1:], *entry["aliases"]])),
            )
        )
    return Registry(tuple(identities))
