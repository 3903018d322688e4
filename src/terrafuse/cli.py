"""The ``terrafuse`` command: ``serve`` and ``demo-data``."""

from __future__ import annotations

import logging
import time
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
        bool, typer.Option("--demo/--no-demo", help="Create demo data and the 'acme' namespace.")
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
        typer.echo(f"demo mode serves anonymous namespaces; binding to 127.0.0.1 instead of {settings.host}")
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
        f"  data folder:          {settings.data_dir}",
        f"  database:             {settings.resolved_database_url}",
        f"  object store:         {settings.resolved_storage_dir}",
        f"  Dask scheduler:       {info['scheduler']} ({info['workers']} workers"
        + (", local cluster)" if info["local"] else ")"),
    ]
    if catalog is not None:
        from terrafuse.demo.catalog import SEED_ITEM_IDS, item_url_path

        lines.append(f"  demo STAC catalog:    {url}/stac/catalog.json")
        lines += [f"    {item_id}: {url}/stac/{item_url_path(catalog, item_id)}" for item_id in SEED_ITEM_IDS]
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


def main() -> None:
    """Console-script entry point."""
    app()
