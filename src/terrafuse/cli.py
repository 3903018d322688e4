"""The ``terrafuse`` command: ``serve``, ``demo-data`` and ``admin`` (users, organisations, credits,
storage)."""

from __future__ import annotations

import contextlib
import logging
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Annotated

import typer

app = typer.Typer(
    help="terrafuse: an open Earth-observation processing platform.",
    no_args_is_help=True,
    pretty_exceptions_show_locals=False,
)

DataDir = Annotated[
    Path | None, typer.Option("--data-dir", help="Folder for the database, objects and demo data.")
]


def _settings(**overrides: object):  # -> Settings (imported lazily: the CLI must start fast)
    from terrafuse.config import Settings

    return Settings(**{k: v for k, v in overrides.items() if v is not None})


def _build_demo(settings, resolution: float = 20.0, force: bool = False):
    from terrafuse.demo.catalog import build_demo_catalog

    started = time.perf_counter()
    catalog = build_demo_catalog(settings.demo_stac_dir, resolution=resolution, force=force)
    return catalog, time.perf_counter() - started


@app.command()
def serve(
    host: Annotated[str | None, typer.Option(help="Interface to bind (default 127.0.0.1).")] = None,
    port: Annotated[int | None, typer.Option(help="Port (default 8000).")] = None,
    data_dir: DataDir = None,
    demo: Annotated[
        bool,
        typer.Option(
            "--demo/--no-demo",
            help="Create demo data, the 'acme' namespace and the guide's demo account (loopback only).",
        ),
    ] = False,
    log_level: Annotated[str, typer.Option(help="Server log level.")] = "info",
) -> None:
    """Start the platform: API server, database, object store and a local Dask cluster."""
    import uvicorn

    from terrafuse.api.app import create_app
    from terrafuse.bootstrap import build_platform, close_platform, public_url

    logging.basicConfig(level=log_level.upper(), format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    # Dask and Alembic narrate every start at INFO; keep the start-up banner readable.
    for noisy in ("distributed", "alembic"):
        logging.getLogger(noisy).setLevel(max(logging.getLogger().level, logging.WARNING))
    settings = _settings(host=host, port=port, data_dir=data_dir, demo=demo or None)
    if settings.demo and settings.host not in ("127.0.0.1", "localhost", "::1"):
        typer.echo(
            "demo mode serves anonymous namespaces and a demo account whose password is published; "
            f"binding to 127.0.0.1 instead of {settings.host}"
        )
        settings = settings.model_copy(update={"host": "127.0.0.1"})
    catalog = None
    if settings.demo:
        catalog, seconds = _build_demo(settings, settings.demo_resolution)
        typer.echo(f"demo STAC catalog ready in {seconds:.1f} s: {catalog.catalog_path}")
    platform = build_platform(settings)
    url = public_url(settings)
    info = platform.dispatcher.executor.info()  # type: ignore[attr-defined]
    lines = [
        f"terrafuse is running at {url}/",
        f"  OGC API - Processes:  {url}/ogc-api/" + (f"  and  {url}/acme/ogc-api/" if settings.demo else ""),
        f"  platform API:         {url}/api  (api_url of the terrafuse and Fusion Platform SDKs)",
        f"  data folder:          {settings.data_dir}",
        f"  database:             {settings.resolved_database_url}",
        f"  object store:         {settings.resolved_storage_dir}",
        f"  Dask scheduler:       {info['scheduler']} ({info['workers']} workers"
        + (", local cluster)" if info["local"] else ")"),
    ]
    if settings.demo:
        from terrafuse.usecases.accounts import DEMO_EMAIL, DEMO_PASSWORD

        lines += [
            f"  demo account:         {DEMO_EMAIL} / {DEMO_PASSWORD} (organisation 'acme', all privileges)",
            "  demo mode listens on loopback only: the demo account's password is public.",
        ]
    if catalog is not None:
        from terrafuse.demo.catalog import SEED_ITEM_IDS, item_url_path

        lines.append(f"  demo STAC catalog:    {url}/stac/catalog.json")
        lines += [f"    {item_id}: {url}/stac/{item_url_path(catalog, item_id)}" for item_id in SEED_ITEM_IDS]
        from terrafuse.demo import uk

        lines.append(
            f"    + {len(uk.GLASGOW_ITEM_IDS) + len(uk.LAKE_DISTRICT_ITEM_IDS)} Sentinel-2 scenes and "
            f"{len(uk.DEM_ITEM_IDS)} DEM tiles over Glasgow and the Lake District (the SDK guide's examples)"
        )
    typer.echo("\n".join(lines))
    try:
        uvicorn.run(
            create_app(platform, settings), host=settings.host, port=settings.port, log_level=log_level
        )
    finally:
        close_platform(platform)


@app.command("demo-data")
def demo_data(
    data_dir: DataDir = None,
    resolution: Annotated[
        float, typer.Option(help="Pixel size (m) of the generated scenes: 20 (default) or 10.")
    ] = 20.0,
    force: Annotated[bool, typer.Option(help="Rebuild even if the catalog is up to date.")] = False,
) -> None:
    """Prepare the demo STAC catalog (generated and bundled scenes)."""
    settings = _settings(data_dir=data_dir)
    catalog, seconds = _build_demo(settings, resolution, force)
    typer.echo(
        f"demo STAC catalog at {catalog.catalog_path} ({len(catalog.item_paths)} items, {seconds:.1f} s)"
    )


# -- admin ----------------------------------------------------------------------------------------
admin_app = typer.Typer(
    help="Manage users, organisations and credits (safe while a server runs on the same database).",
    no_args_is_help=True,
)
user_app = typer.Typer(help="User accounts.", no_args_is_help=True)
org_app = typer.Typer(help="Organisations and their members.", no_args_is_help=True)
credits_app = typer.Typer(help="Organisations' credits.", no_args_is_help=True)
storage_app = typer.Typer(help="Stored files: billing and deletion.", no_args_is_help=True)
admin_app.add_typer(user_app, name="user")
admin_app.add_typer(org_app, name="org")
admin_app.add_typer(credits_app, name="credits")
admin_app.add_typer(storage_app, name="storage")
app.add_typer(admin_app, name="admin")


def _fail(message: str) -> typer.Exit:
    typer.echo(f"error: {message}", err=True)
    return typer.Exit(1)


@contextlib.contextmanager
def _accounts(data_dir: Path | None) -> Iterator:  # Iterator[Accounts]
    """The account use cases on the configured database (migrated first); expected failures end
    the command with a message and exit code 1, never a traceback."""
    from pydantic import ValidationError
    from sqlalchemy.exc import SQLAlchemyError

    from terrafuse.errors import TerrafuseError
    from terrafuse.store.db import Database
    from terrafuse.usecases.accounts import Accounts

    db = None
    try:
        settings = _settings(data_dir=data_dir)
        db = Database(settings.resolved_database_url)
        db.migrate()
        yield Accounts(db)
    except TerrafuseError as exc:
        raise _fail(exc.detail) from None
    except ValidationError as exc:
        raise _fail(f"invalid settings: {exc.errors()[0].get('msg')}") from None
    except SQLAlchemyError as exc:
        first_line = str(exc.orig if getattr(exc, "orig", None) else exc).splitlines()[0]
        raise _fail(f"database error: {first_line}") from None
    except OSError as exc:
        raise _fail(str(exc)) from None
    finally:
        if db is not None:
            db.dispose()


@user_app.command("create")
def user_create(
    email: Annotated[str, typer.Option(help="E-mail address (the sign-in name).")],
    password: Annotated[
        str,
        typer.Option(
            prompt=True,
            hide_input=True,
            confirmation_prompt=True,
            help="Password (asked for when not given): 8+ characters with upper- and lower-case "
            "letters, a number and a special character.",
        ),
    ],
    given_name: Annotated[str, typer.Option(help="Given name.")] = "",
    family_name: Annotated[str, typer.Option(help="Family name.")] = "",
    data_dir: DataDir = None,
) -> None:
    """Create a user account."""
    from terrafuse.usecases import accounts as uc

    with _accounts(data_dir) as ctx:
        user = uc.create_user(ctx, email, password, given_name, family_name)
    typer.echo(f"created user {user.email} (id {user.id})")


@user_app.command("list")
def user_list(data_dir: DataDir = None) -> None:
    """List users with their organisations and privileges."""
    with _accounts(data_dir) as ctx:
        orgs = {o.id: o.namespace for o in ctx.organisations.list()}
        rows = []
        for user in ctx.users.list():
            memberships = ", ".join(
                f"{orgs.get(m.organisation_id, m.organisation_id)}({_privileges(m.privileges)})"
                for m in ctx.memberships.for_user(user.id)
            )
            name = f"{user.given_name} {user.family_name}".strip()
            rows.append((user.email, user.id, name, memberships or "-"))
    _table(("EMAIL", "ID", "NAME", "ORGANISATIONS"), rows, "no users")


@org_app.command("create")
def org_create(
    name: Annotated[str, typer.Option(help="Display name.")],
    namespace: Annotated[
        str, typer.Option(help="URL name: /<namespace>/ogc-api (lower-case letters, digits, - and _).")
    ],
    anonymous: Annotated[
        bool,
        typer.Option("--anonymous/--no-anonymous", help="Let anyone use its OGC API without signing in."),
    ] = False,
    data_dir: DataDir = None,
) -> None:
    """Create an organisation."""
    with _accounts(data_dir) as ctx:
        org = ctx.organisations.create(name, namespace, anonymous)
    access = "anonymous access" if org.allow_anonymous else "members only"
    typer.echo(f"created organisation {org.namespace} '{org.name}' (id {org.id}, {access})")


@org_app.command("add-member")
def org_add_member(
    org: Annotated[str, typer.Option("--org", help="Organisation: namespace, id or name.")],
    email: Annotated[str, typer.Option(help="The user's e-mail address (or id).")],
    privileges: Annotated[
        str, typer.Option(help="Comma-separated privileges: view, execute, manage.")
    ] = "view,execute",
    data_dir: DataDir = None,
) -> None:
    """Make a user a member of an organisation (or replace their privileges there)."""
    from terrafuse.usecases import accounts as uc

    with _accounts(data_dir) as ctx:
        found, user, membership, created = uc.add_member(ctx, org, email, privileges)
    verb = "added" if created else "updated"
    typer.echo(f"{verb}: {user.email} in {found.namespace} with {_privileges(membership.privileges)}")


@org_app.command("list")
def org_list(data_dir: DataDir = None) -> None:
    """List organisations with their members."""
    with _accounts(data_dir) as ctx:
        rows = []
        for org in ctx.organisations.list():
            members = ctx.memberships.for_organisation(org.id)
            emails = ", ".join(f"{email}({_privileges(m.privileges)})" for m, email in members)
            rows.append(
                (org.namespace, org.id, org.name, "yes" if org.allow_anonymous else "no", emails or "-")
            )
    _table(("NAMESPACE", "ID", "NAME", "ANONYMOUS", "MEMBERS"), rows, "no organisations")


@credits_app.command("add")
def credits_add(
    org: Annotated[str, typer.Option("--org", help="Organisation: namespace, id or name.")],
    amount: Annotated[
        str,
        typer.Option(help="Credits bought: a positive number, up to 6 decimal places (e.g. 250 or 12.5)."),
    ],
    reference: Annotated[
        str | None,
        typer.Option(help="Payment reference: adding the same reference again adds nothing."),
    ] = None,
    note: Annotated[str | None, typer.Option(help="A note kept with the ledger entry.")] = None,
    data_dir: DataDir = None,
) -> None:
    """Add bought credits to an organisation."""
    from terrafuse.store.credits import Credits
    from terrafuse.usecases import accounts as uc
    from terrafuse.usecases.credits import purchase

    with _accounts(data_dir) as ctx:
        found = uc.find_organisation(ctx, org)
        credits = Credits(ctx.organisations.db)
        entry = purchase(credits, found.id, amount, reference=reference, note=note)
        balance = credits.balance(found.id)
    if entry is None:
        typer.echo(f"nothing added: reference {reference!r} was already used for {found.namespace}")
    else:
        typer.echo(f"added {entry.amount.normalize():f} credits to {found.namespace}")
    typer.echo(f"{found.namespace} now has {balance.any_credits.normalize():f} credits available")


@storage_app.command("bill")
def storage_bill(
    now: Annotated[
        str | None,
        typer.Option(help="Bill as of this instant (ISO 8601, UTC when no offset is given); default now."),
    ] = None,
    data_dir: DataDir = None,
) -> None:
    """Charge today's storage, schedule deletions of organisations out of credits, carry out due
    ones (what every server does hourly; running it again the same day charges nothing more)."""
    from datetime import UTC, datetime

    from terrafuse.bootstrap import build_offline_platform, close_platform
    from terrafuse.core.clock import utcnow
    from terrafuse.usecases.storage_billing import run_storage_billing

    try:
        when = datetime.fromisoformat(now) if now else utcnow()
    except ValueError:
        raise _fail(f"--now {now!r} is not an ISO 8601 date and time") from None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    with _accounts(data_dir):  # the same error handling (and migration) as the other commands
        platform = build_offline_platform(_settings(data_dir=data_dir))
        try:
            run = run_storage_billing(platform, when)
        finally:
            close_platform(platform)
    typer.echo(f"storage billing for {run.day}")
    for label, orgs in [
        ("charged", run.charged),
        ("out of credits (deletion scheduled)", run.scheduled),
        ("notified", run.notified),
        ("deletion cancelled", run.cancelled),
        ("data deleted", run.deleted),
    ]:
        typer.echo(f"{label}: {', '.join(orgs) if orgs else '-'}")


def _privileges(privileges: frozenset) -> str:
    from terrafuse.core.accounts import privileges_text

    return privileges_text(privileges).replace(",", "+") or "none"


def _table(header: tuple[str, ...], rows: list[tuple[str, ...]], empty: str) -> None:
    if not rows:
        typer.echo(empty)
        return
    widths = [max(len(str(r[i])) for r in [header, *rows]) for i in range(len(header))]
    for row in [header, *rows]:
        typer.echo("  ".join(str(v).ljust(w) for v, w in zip(row, widths, strict=True)).rstrip())


def main() -> None:
    """Console-script entry point."""
    app()
