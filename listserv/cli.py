"""The `listserv` command (DESIGN, "Commands").

Every command loads the settings once, opens the database, does one thing and
exits. A user's mistake prints one line on stderr and exits 1 (2 for a
malformed command line); only bugs show a traceback.
"""

from __future__ import annotations

import asyncio
import json
import logging
import sys
from collections.abc import Awaitable, Callable, Coroutine
from datetime import datetime, timedelta
from pathlib import Path
from typing import Annotated, Any, TypeVar

import typer
from typer.exceptions import Abort, TyperException

from filters.tlp import Tlp, label_of_message, resolve
from listserv import registry
from listserv.addresses import author_addresses, normalise_address
from listserv.config import Settings, load_settings
from listserv.db import Database, require_current_schema
from listserv.directory import ListView
from listserv.errors import InvalidInput, ListservError, NotFound
from listserv.keys import Keys
from listserv.models import NonMemberPolicy, RedPolicy, utcnow

T = TypeVar("T")

app = typer.Typer(
    name="listserv",
    help="A mailing-list manager for closed communities under the Chatham House Rule.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,
)
list_app = typer.Typer(help="Create and show lists.", no_args_is_help=True)
member_app = typer.Typer(help="Add, import, list and remove members.", no_args_is_help=True)
held_app = typer.Typer(help="Moderate held posts.", no_args_is_help=True)
archive_app = typer.Typer(help="The de-attributed archive.", no_args_is_help=True)
app.add_typer(archive_app, name="archive")
app.add_typer(list_app, name="list")
app.add_typer(member_app, name="member")
app.add_typer(held_app, name="held")


class Context:
    def __init__(self, config: Path | None) -> None:
        self.config = config
        self._settings: Settings | None = None

    @property
    def settings(self) -> Settings:
        if self._settings is None:
            self._settings = load_settings(self.config)
        return self._settings


def _context(ctx: typer.Context) -> Context:
    obj = ctx.find_root().obj
    assert isinstance(obj, Context)
    return obj


@app.callback()
def main_options(
    ctx: typer.Context,
    config: Annotated[
        Path | None,
        typer.Option(
            "--config",
            help="Config file (default: $LISTSERV_CONFIG, then ./config.toml, then defaults).",
            dir_okay=False,
        ),
    ] = None,
) -> None:
    ctx.obj = Context(config)


def run(coroutine: Coroutine[Any, Any, T]) -> T:
    return asyncio.run(coroutine)


async def with_database(settings: Settings, work: Callable[[Database], Awaitable[T]]) -> T:
    db = Database(settings.database_url)
    try:
        await require_current_schema(db)
        return await work(db)
    finally:
        await db.dispose()


@app.command()
def init(ctx: typer.Context) -> None:
    """Create or upgrade the database and create the secret key."""
    settings = _context(ctx).settings

    async def work() -> None:
        db = Database(settings.database_url)
        try:
            await db.migrate()
        finally:
            await db.dispose()

    run(work())
    created = Keys.create(settings.secret_key_path)
    typer.echo(f"database ready: {settings.database_url}")
    key_state = "created" if created else "kept"
    typer.echo(f"secret key {key_state}: {settings.secret_key_path}")


@app.command()
def serve(ctx: typer.Context) -> None:
    """Run intake, pipeline, delivery and web until SIGTERM."""
    from listserv.malloc_tuning import tune_for_big_messages
    from listserv.server import serve as serve_forever

    tune_for_big_messages()
    settings = _context(ctx).settings
    logging.basicConfig(
        level=logging.INFO,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
        stream=sys.stderr,
    )
    logging.getLogger("mail.log").setLevel(logging.WARNING)  # aiosmtpd's per-command log
    logging.getLogger("alembic").setLevel(logging.WARNING)
    run(serve_forever(settings))


@list_app.command("create")
def list_create(
    ctx: typer.Context,
    address: Annotated[str, typer.Argument(help="The list's posting address.")],
    name: Annotated[str | None, typer.Option(help="A human name for the list.")] = None,
    tlp: Annotated[str, typer.Option(help="The TLP floor of every post.")] = "AMBER",
    nonmember: Annotated[
        NonMemberPolicy, typer.Option(help="What happens to posts from non-members.")
    ] = NonMemberPolicy.HOLD,
    red: Annotated[RedPolicy, typer.Option(help="Whether TLP:RED posts are accepted.")] = (
        RedPolicy.ALLOW
    ),
) -> None:
    """Create a list."""
    floor = registry.parse_floor(tlp)

    async def work(db: Database) -> str:
        async with db.transaction() as session:
            created = await registry.create_list(
                session, address, name=name, floor=floor, nonmember_policy=nonmember, red_policy=red
            )
            return created.address

    created = run(with_database(_context(ctx).settings, work))
    typer.echo(f"created {created} (floor {floor.label}, non-members: {nonmember.value})")


@list_app.command("show")
def list_show(ctx: typer.Context, address: str) -> None:
    """Show a list's settings and size."""

    async def work(db: Database) -> dict[str, object]:
        async with db.session() as session:
            found = await registry.get_list(session, address)
            count = await registry.count_members(session, found)
            return {
                "address": found.address,
                "name": found.name,
                "tlp floor": f"TLP:{found.tlp_floor.replace('_', '+')}",
                "non-members": found.nonmember_policy,
                "TLP:RED": found.red_policy,
                "subject prefix": found.subject_prefix or "(none)",
                "archive dates": f"rounded to the {found.archive_date_rounding}",
                "members": count,
                "bounce address": ListView.of(found).bounce_address,
            }

    for key, value in run(with_database(_context(ctx).settings, work)).items():
        typer.echo(f"{key + ':':16} {value}")


def _yes_no(value: str | None, option: str) -> bool | None:
    if value is None:
        return None
    lowered = value.strip().lower()
    if lowered in ("yes", "on", "true", "1"):
        return True
    if lowered in ("no", "off", "false", "0"):
        return False
    raise InvalidInput(f"{option} takes yes or no, not {value!r}")


@list_app.command("set")
def list_set(
    ctx: typer.Context,
    address: str,
    name: Annotated[str | None, typer.Option(help="A human name for the list.")] = None,
    tlp: Annotated[str | None, typer.Option(help="The TLP floor of every post.")] = None,
    nonmember: Annotated[NonMemberPolicy | None, typer.Option(help="hold, reject or discard.")] = (
        None
    ),
    red: Annotated[RedPolicy | None, typer.Option(help="allow or refuse TLP:RED.")] = None,
    subject_prefix: Annotated[
        str | None, typer.Option(help='A subject tag such as "[ciso]"; "" for none.')
    ] = None,
    archive_dates: Annotated[
        str | None, typer.Option(help="Round archive dates to the hour or the day.")
    ] = None,
    first_post_moderated: Annotated[
        str | None, typer.Option(help="yes: a new member's first post waits for a moderator.")
    ] = None,
    soft_size_limit: Annotated[
        int | None, typer.Option(help="Hold posts larger than this many bytes; 0 for no limit.")
    ] = None,
    allowed_attachment_types: Annotated[
        str | None,
        typer.Option(help='Allowed attachment types, e.g. "application/pdf image/*"; "" for all.'),
    ] = None,
    require_authentication: Annotated[
        str | None, typer.Option(help="yes: hold posts whose sender fails DKIM/DMARC.")
    ] = None,
    token_expiry_days: Annotated[
        int | None, typer.Option(help="Days a one-mail approval stays valid.")
    ] = None,
    held_retention_days: Annotated[
        int | None, typer.Option(help="Days rejected and expired posts are kept.")
    ] = None,
) -> None:
    """Change a list's settings (only the options given)."""
    changes: dict[str, object] = {}
    if name is not None:
        changes["name"] = name.strip()
    if tlp is not None:
        changes["tlp_floor"] = registry.parse_floor(tlp).name
    if nonmember is not None:
        changes["nonmember_policy"] = nonmember.value
    if red is not None:
        changes["red_policy"] = red.value
    if subject_prefix is not None:
        changes["subject_prefix"] = subject_prefix.strip() or None
    if archive_dates is not None:
        if archive_dates not in ("hour", "day"):
            raise InvalidInput("--archive-dates takes hour or day")
        changes["archive_date_rounding"] = archive_dates
    for option, value in (
        ("first_post_moderated", first_post_moderated),
        ("require_authentication", require_authentication),
    ):
        flag = _yes_no(value, "--" + option.replace("_", "-"))
        if flag is not None:
            changes[option] = flag
    if soft_size_limit is not None:
        changes["soft_size_limit"] = soft_size_limit or None
    if allowed_attachment_types is not None:
        types = [t.lower() for t in allowed_attachment_types.replace(",", " ").split()]
        if any("/" not in t for t in types):
            raise InvalidInput("attachment types look like application/pdf or image/*")
        changes["allowed_attachment_types"] = types or None
    for option, days in (
        ("token_expiry_days", token_expiry_days),
        ("held_retention_days", held_retention_days),
    ):
        if days is not None:
            if days < 1:
                raise InvalidInput(f"--{option.replace('_', '-')} must be at least 1")
            changes[option] = days
    if not changes:
        raise InvalidInput("nothing to change; see `listserv list set --help`")

    async def work(db: Database) -> str:
        async with db.transaction() as session:
            found = await registry.get_list(session, address)
            for key, value in changes.items():
                setattr(found, key, value)
            session.add(found)
            await registry.bump_version(session)
            return found.address

    changed = run(with_database(_context(ctx).settings, work))
    typer.echo(f"updated {changed}: {', '.join(sorted(changes))}")


@member_app.command("set")
def member_set(
    ctx: typer.Context,
    list_address: Annotated[str, typer.Argument(metavar="LIST")],
    email: str,
    role: Annotated[str | None, typer.Option(help="member, moderator or owner.")] = None,
    moderated: Annotated[
        str | None, typer.Option(help="yes: every post of this member waits for a moderator.")
    ] = None,
    delivery: Annotated[str | None, typer.Option(help="on or off.")] = None,
) -> None:
    """Change a member's role, moderation or delivery."""
    changes: dict[str, object] = {}
    if role is not None:
        changes["role"] = registry.parse_role(role).value
    flag = _yes_no(moderated, "--moderated")
    if flag is not None:
        changes["moderated"] = flag
    flag = _yes_no(delivery, "--delivery")
    if flag is not None:
        changes["delivery_enabled"] = flag
        if flag:
            changes["bounce_score"] = 0
    if not changes:
        raise InvalidInput("nothing to change; see `listserv member set --help`")

    async def work(db: Database) -> None:
        async with db.transaction() as session:
            found = await registry.get_list(session, list_address)
            member = await registry.find_member(session, found, normalise_address(email))
            if member is None:
                raise NotFound(f"{email} is not a member of {found.address}")
            for key, value in changes.items():
                setattr(member, key, value)
            session.add(member)
            await registry.bump_version(session)

    run(with_database(_context(ctx).settings, work))
    typer.echo(f"updated {email.strip().lower()}: {', '.join(sorted(changes))}")


@member_app.command("add")
def member_add(
    ctx: typer.Context,
    list_address: Annotated[str, typer.Argument(metavar="LIST")],
    email: str,
    name: Annotated[str, typer.Option(help="The member's full name.")] = "",
    org: Annotated[str, typer.Option(help="The member's organisation.")] = "",
    org_domain: Annotated[
        list[str] | None, typer.Option(help="A domain of the organisation (repeat for more).")
    ] = None,
    role: Annotated[str, typer.Option(help="member, moderator or owner.")] = "member",
    alias: Annotated[
        list[str] | None,
        typer.Option(help="Another name, short form or number that identifies them (repeat)."),
    ] = None,
) -> None:
    """Add one member to a list."""
    details = registry.member_details(
        email,
        name=name,
        organisation=org,
        org_domains=org_domain or [],
        role=role,
        aliases=alias or [],
    )

    async def work(db: Database) -> str:
        async with db.transaction() as session:
            found = await registry.get_list(session, list_address)
            await registry.add_member(session, found, details)
            return found.address

    list_name = run(with_database(_context(ctx).settings, work))
    typer.echo(f"added {details.email} to {list_name} as {details.role.value}")


@member_app.command("import")
def member_import(
    ctx: typer.Context,
    list_address: Annotated[str, typer.Argument(metavar="LIST")],
    file: Annotated[Path, typer.Argument(metavar="FILE.csv")],
) -> None:
    """Import members from CSV (email,name,org,org_domains,role); all or nothing."""
    try:
        text = file.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise InvalidInput(f"{file}: no such file") from None
    except UnicodeDecodeError:
        raise InvalidInput(f"{file}: not UTF-8 text") from None
    except OSError as error:
        raise InvalidInput(f"{file}: {error.strerror}") from None
    members = registry.parse_member_csv(text)

    async def work(db: Database) -> registry.ImportSummary:
        async with db.transaction() as session:
            found = await registry.get_list(session, list_address)
            return await registry.import_members(session, found, members)

    summary = run(with_database(_context(ctx).settings, work))
    typer.echo(f"imported {file}: {summary.added} added, {summary.updated} updated")


@member_app.command("list")
def member_list(
    ctx: typer.Context,
    list_address: Annotated[str, typer.Argument(metavar="LIST")],
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """List the members of a list."""

    async def work(db: Database) -> list[dict[str, object]]:
        async with db.session() as session:
            found = await registry.get_list(session, list_address)
            return [
                {
                    "email": m.email,
                    "name": m.name,
                    "org": m.organisation,
                    "org_domains": m.org_domains,
                    "role": m.role,
                    "aliases": m.aliases,
                    "delivery": m.delivery_enabled,
                    "bounce_score": m.bounce_score,
                }
                for m in await registry.list_members(session, found)
            ]

    members = run(with_database(_context(ctx).settings, work))
    if as_json:
        typer.echo(json.dumps(members, indent=2, ensure_ascii=False))
        return
    for m in members:
        flags = "" if m["delivery"] else "  [delivery off]"
        org = f" ({m['org']})" if m["org"] else ""
        typer.echo(f"{m['email']}  {m['name']}{org}  {m['role']}{flags}")


@member_app.command("remove")
def member_remove(
    ctx: typer.Context,
    list_address: Annotated[str, typer.Argument(metavar="LIST")],
    email: str,
) -> None:
    """Remove a member from a list."""

    async def work(db: Database) -> None:
        async with db.transaction() as session:
            found = await registry.get_list(session, list_address)
            await registry.remove_member(session, found, email)

    run(with_database(_context(ctx).settings, work))
    typer.echo(f"removed {email.strip().lower()} from {list_address.strip().lower()}")


@held_app.command("list")
def held_list(
    ctx: typer.Context,
    list_address: Annotated[str, typer.Argument(metavar="LIST")],
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """Posts waiting for a moderator: id, age, sender, subject, reasons."""
    from listserv import moderation

    async def work(db: Database) -> list[moderation.HeldPost]:
        async with db.session() as session:
            found = await registry.get_list(session, list_address)
        return await moderation.held_posts(db, found.address)

    posts = run(with_database(_context(ctx).settings, work))
    now = utcnow()
    if as_json:
        typer.echo(
            json.dumps(
                [
                    {
                        "id": p.id,
                        "held_at": p.held_at.isoformat(),
                        "age_seconds": int((now - p.held_at).total_seconds()),
                        "sender": p.sender,
                        "subject": p.subject,
                        "label": p.label,
                        "reasons": list(p.reasons),
                    }
                    for p in posts
                ],
                indent=2,
                ensure_ascii=False,
            )
        )
        return
    if not posts:
        typer.echo(f"nothing held for {list_address.strip().lower()}")
    for p in posts:
        typer.echo(f"#{p.id}  {_age(now - p.held_at)} ago  {p.sender}  {p.subject}")
        for reason in p.reasons:
            typer.echo(f"      {reason}")


def _age(delta: timedelta) -> str:
    seconds = int(delta.total_seconds())
    if seconds < 3600:
        return f"{seconds // 60}m"
    if seconds < 86400:
        return f"{seconds // 3600}h"
    return f"{seconds // 86400}d"


@held_app.command("approve")
def held_approve(ctx: typer.Context, held_id: Annotated[int, typer.Argument(metavar="ID")]) -> None:
    """Approve a held post: it is distributed and archived as if accepted."""
    from listserv import moderation

    async def work(db: Database) -> moderation.Verdict:
        return await moderation.approve(db, held_id, moderator="cli", via="cli")

    _report_verdict(held_id, run(with_database(_context(ctx).settings, work)))


@held_app.command("reject")
def held_reject(
    ctx: typer.Context,
    held_id: Annotated[int, typer.Argument(metavar="ID")],
    reason: Annotated[str, typer.Option(help="Told to the sender.")] = "",
) -> None:
    """Reject a held post; its sender is told the reason."""
    from listserv import moderation

    async def work(db: Database) -> moderation.Verdict:
        return await moderation.reject(db, held_id, moderator="cli", via="cli", reason=reason)

    _report_verdict(held_id, run(with_database(_context(ctx).settings, work)))


def _report_verdict(held_id: int, verdict: object) -> None:
    from listserv.moderation import Verdict

    assert isinstance(verdict, Verdict)
    messages = {
        Verdict.APPROVED: f"#{held_id} approved; it goes to the list now",
        Verdict.REJECTED: f"#{held_id} rejected; the sender is told why",
    }
    if verdict in messages:
        typer.echo(messages[verdict])
        return
    problems = {
        Verdict.ALREADY_DECIDED: f"#{held_id} was already decided",
        Verdict.NOT_FOUND: f"no held post #{held_id}",
        Verdict.EXPIRED: f"#{held_id} expired before anyone decided",
        Verdict.NOT_ALLOWED: f"not allowed to decide #{held_id}",
    }
    raise InvalidInput(problems[verdict])


@archive_app.command("export")
def archive_export(
    ctx: typer.Context,
    list_address: Annotated[str, typer.Argument(metavar="LIST")],
    output: Annotated[
        Path | None, typer.Option("-o", "--output", help="Write here instead of stdout.")
    ] = None,
) -> None:
    """Write an mbox of the archive forms (never originals), oldest first."""
    from archive.export import write_mbox
    from archive.store import posts_in_order

    async def work(db: Database) -> list[tuple[bytes, datetime]]:
        async with db.session() as session:
            found = await registry.get_list(session, list_address)
            assert found.id is not None
            return [(p.form, p.date) for p in await posts_in_order(session, found.id)]

    forms = run(with_database(_context(ctx).settings, work))
    if output is None:
        write_mbox(sys.stdout.buffer, forms)
        sys.stdout.flush()
        return
    try:
        with output.open("wb") as file:
            count = write_mbox(file, forms)
    except OSError as error:
        raise InvalidInput(f"{output}: {error.strerror}") from None
    typer.echo(f"wrote {count} archived posts to {output}", err=True)


@archive_app.command("holds")
def archive_holds(
    ctx: typer.Context, list_address: Annotated[str, typer.Argument(metavar="LIST")]
) -> None:
    """Archive copies that failed closed and wait for a moderator."""
    from listserv import archive_review

    async def work(db: Database) -> list[archive_review.HeldArchiveCopy]:
        return await archive_review.pending(db, list_address)

    copies = run(with_database(_context(ctx).settings, work))
    if not copies:
        typer.echo(f"no archive copies held for {list_address.strip().lower()}")
    for copy in copies:
        typer.echo(f"#{copy.id}  post {copy.inbound_id}  {copy.subject}")
        typer.echo(f"      {copy.reason}")


@archive_app.command("withhold")
def archive_withhold(
    ctx: typer.Context, hold_id: Annotated[int, typer.Argument(metavar="ID")]
) -> None:
    """Never archive a held copy (it was distributed); its original is deleted."""
    from listserv import archive_review

    async def work(db: Database) -> None:
        await archive_review.withhold(db, hold_id)

    run(with_database(_context(ctx).settings, work))
    typer.echo(f"archive hold #{hold_id} withheld; the post stays out of the archive")


@archive_app.command("retry")
def archive_retry(
    ctx: typer.Context, hold_id: Annotated[int, typer.Argument(metavar="ID")]
) -> None:
    """Scrub a held copy again (after adding an alias, say) and archive it if it passes."""
    from listserv import archive_review
    from listserv.archiving import Archiver, InProcessScrubber

    settings = _context(ctx).settings
    archiver = Archiver(
        Keys.load(settings.secret_key_path), InProcessScrubber(), base_url=settings.web.base_url
    )

    async def work(db: Database) -> str | None:
        return await archive_review.retry(db, hold_id, archiver)

    reason = run(with_database(settings, work))
    if reason is not None:
        raise InvalidInput(f"archive hold #{hold_id} still fails closed: {reason}")
    typer.echo(f"archive hold #{hold_id} archived")


@app.command("scrub")
def scrub(
    ctx: typer.Context,
    list_address: Annotated[str, typer.Argument(metavar="LIST")],
    file: Annotated[Path, typer.Argument(metavar="FILE.eml")],
) -> None:
    """Print the archive form of one message (flags on stderr); stores nothing."""
    from listserv.archiving import Archiver, InProcessScrubber, keyed_ids
    from listserv.inbound import parent_label
    from listserv.post_rendering import parse_message

    settings = _context(ctx).settings
    try:
        raw = file.read_bytes()
    except OSError as error:
        raise InvalidInput(f"{file}: {error.strerror}") from None
    keys = Keys.load(settings.secret_key_path)

    async def work(db: Database) -> tuple[bytes, list[str], str | None]:
        message = parse_message(raw)
        async with db.session() as session:
            found = await registry.get_list(session, list_address)
            view = ListView.of(found)
            identities = await registry.load_registry(session)
            ids = keyed_ids(keys, view, message, raw)
            author = None
            for address in author_addresses(message):
                member = await registry.find_member(session, found, address)
                if member is not None:
                    author = member.email
                    break
            label = resolve(
                view.floor,
                label_of_message(message),
                await parent_label(session, view.id, ids.references),
            )
            if label is Tlp.RED:
                return b"", [], "TLP:RED posts are never archived"
            archiver = Archiver(keys, InProcessScrubber(), base_url=settings.web.base_url)
            plan = await archiver.prepare(
                session,
                mailing_list=view,
                raw=raw,
                ids=ids,
                label=label,
                author_key=author,
                received_at=utcnow(),
                registry=identities,
            )
        flags = [str(flag) for flag in plan.form.flags]
        return plan.form.message, flags, plan.form.hold_reason

    form, flags, held = run(with_database(settings, work))
    for flag in flags:
        typer.echo(f"flag: {flag}", err=True)
    if held is not None:
        raise InvalidInput(f"not archived: {held}")
    sys.stdout.buffer.write(form)
    sys.stdout.flush()


def main(argv: list[str] | None = None) -> None:
    """Console entry point: one line per error, no traceback for user mistakes."""
    try:
        app(args=argv, prog_name="listserv", standalone_mode=False)
    except ListservError as error:
        typer.echo(f"listserv: {error}", err=True)
        raise SystemExit(1) from None
    except Abort:
        typer.echo("listserv: aborted", err=True)
        raise SystemExit(130) from None
    except TyperException as error:
        # Usage errors (a missing argument, an unknown option): one line, exit 2.
        context = getattr(error, "ctx", None)
        if type(error).__name__ == "NoArgsIsHelpError" and context is not None:
            typer.echo(context.get_help())
            raise SystemExit(0) from None
        command = context.command_path if context is not None else "listserv"
        message = error.format_message() if hasattr(error, "format_message") else str(error)
        typer.echo(f"{command}: {message}", err=True)
        raise SystemExit(getattr(error, "exit_code", 2) or 2) from None
    except KeyboardInterrupt:
        raise SystemExit(130) from None


if __name__ == "__main__":
    main()
