"""An in-memory view of the registry for the hot path.

SMTP intake asks "is this a list?" at every RCPT and "is this a member?" at
every DATA; the pipeline asks who receives a post. Asking the database each
time would put a round trip on every command, so the running server keeps
this view and reloads it when `RegistryState.version` changes (checked at
most once per `check_interval` seconds, so a member added from the CLI of
another process can post within a second).
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import select

from filters.identities import Registry
from filters.tlp import Tlp
from listserv.db import Database
from listserv.models import MailingList, NonMemberPolicy, RedPolicy, Role
from listserv.registry import member_rows, registry_from_rows, registry_version


@dataclass(frozen=True, slots=True)
class ListView:
    id: int
    address: str
    name: str
    floor: Tlp
    nonmember_policy: NonMemberPolicy
    red_policy: RedPolicy
    subject_prefix: str | None
    archive_date_rounding: str
    first_post_moderated: bool = False
    soft_size_limit: int | None = None
    allowed_attachment_types: tuple[str, ...] | None = None
    require_authentication: bool = False
    token_expiry_days: int = 14

    @property
    def local_part(self) -> str:
        return self.address.rsplit("@", 1)[0]

    @property
    def domain(self) -> str:
        return self.address.rsplit("@", 1)[1]

    @property
    def bounce_address(self) -> str:
        return f"{self.local_part}-bounces@{self.domain}"

    @property
    def request_address(self) -> str:
        return f"{self.local_part}-request@{self.domain}"

    @property
    def owner_address(self) -> str:
        return f"{self.local_part}-owner@{self.domain}"

    @property
    def list_id(self) -> str:
        return f"{self.local_part}.{self.domain}"

    @classmethod
    def of(cls, row: MailingList) -> ListView:
        assert row.id is not None
        return cls(
            id=row.id,
            address=row.address,
            name=row.name,
            floor=Tlp[row.tlp_floor],
            nonmember_policy=NonMemberPolicy(row.nonmember_policy),
            red_policy=RedPolicy(row.red_policy),
            subject_prefix=row.subject_prefix,
            archive_date_rounding=row.archive_date_rounding,
            first_post_moderated=row.first_post_moderated,
            soft_size_limit=row.soft_size_limit,
            allowed_attachment_types=(
                None
                if row.allowed_attachment_types is None
                else tuple(t.lower() for t in row.allowed_attachment_types)
            ),
            require_authentication=row.require_authentication,
            token_expiry_days=row.token_expiry_days,
        )


@dataclass(frozen=True, slots=True)
class MemberView:
    id: int
    email: str
    name: str
    role: Role
    delivery_enabled: bool
    moderated: bool = False
    posts_accepted: int = 0


@dataclass(frozen=True, slots=True)
class Snapshot:
    version: int
    lists_by_address: dict[str, ListView]
    lists_by_id: dict[int, ListView]
    members: dict[int, dict[str, MemberView]]  # list id → email → member
    registry: Registry
    fingerprint: str  # of the registry, computed once per snapshot


class Directory:
    def __init__(self, db: Database, *, check_interval: float = 1.0) -> None:
        self._db = db
        self._check_interval = check_interval
        self._snapshot: Snapshot | None = None
        self._checked_at = 0.0
        self._lock = asyncio.Lock()

    async def current(self) -> Snapshot:
        """The snapshot, reloaded first if the registry changed."""
        snapshot = self._snapshot
        if snapshot is not None and time.monotonic() - self._checked_at < self._check_interval:
            return snapshot
        async with self._lock:
            if self._snapshot is not None and (
                time.monotonic() - self._checked_at < self._check_interval
            ):
                return self._snapshot
            async with self._db.session() as session:
                version = await registry_version(session)
                if self._snapshot is None or self._snapshot.version != version:
                    self._snapshot = await _load(session, version)
            self._checked_at = time.monotonic()
            return self._snapshot

    async def reload(self) -> Snapshot:
        self._checked_at = 0.0
        self._snapshot = None
        return await self.current()

    async def list_by_address(self, address: str) -> ListView | None:
        return (await self.current()).lists_by_address.get(address.lower())

    async def list_by_id(self, list_id: int) -> ListView | None:
        return (await self.current()).lists_by_id.get(list_id)

    async def member(self, list_id: int, email: str) -> MemberView | None:
        return (await self.current()).members.get(list_id, {}).get(email.lower())

    async def recipients(self, list_id: int) -> list[str]:
        members = (await self.current()).members.get(list_id, {})
        return [m.email for m in members.values() if m.delivery_enabled]

    async def moderators(self, list_id: int) -> list[MemberView]:
        members = (await self.current()).members.get(list_id, {})
        return [m for m in members.values() if m.role in (Role.MODERATOR, Role.OWNER)]


async def _load(session: AsyncSession, version: int) -> Snapshot:
    lists = [ListView.of(row) for row in (await session.scalars(select(MailingList))).all()]
    members: dict[int, dict[str, MemberView]] = {view.id: {} for view in lists}
    rows = await member_rows(session)
    for row in rows:
        members.setdefault(row.list_id, {})[row.email] = MemberView(
            id=row.id,
            email=row.email,
            name=row.name,
            role=Role(row.role),
            delivery_enabled=row.delivery_enabled,
            moderated=row.moderated,
            posts_accepted=row.posts_accepted,
        )
    registry = registry_from_rows(rows)
    return Snapshot(
        version=version,
        lists_by_address={view.address: view for view in lists},
        lists_by_id={view.id: view for view in lists},
        members=members,
        registry=registry,
        fingerprint=registry.fingerprint(),
    )
