"""The FastAPI application factory."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from fastapi import FastAPI, Request, Response
from fastapi.middleware.cors import CORSMiddleware
from fastapi.staticfiles import StaticFiles

from terrafuse import __version__
from terrafuse.api import html
from terrafuse.api.deps import base_url, wants_html
from terrafuse.api.errors import add_error_handlers
from terrafuse.api.limits import BodyLimit
from terrafuse.api.ogc.documents import JSON, link
from terrafuse.api.routes import objects
from terrafuse.api.routes.ogc import jobs, landing, processes
from terrafuse.api.routes.platform import (
    credits,
    data,
    executions,
    openapi,
    organisations,
    services,
    users,
)
from terrafuse.api.routes.platform import (
    processes as platform_processes,
)
from terrafuse.config import Settings
from terrafuse.usecases.executions import Platform


def create_app(platform: Platform, settings: Settings) -> FastAPI:
    """Build the app around an already-built platform (the caller owns its lifecycle)."""
    app = FastAPI(
        title="terrafuse",
        version=__version__,
        description="Open Earth-observation processing platform.",
        docs_url=None,
        redoc_url=None,
    )
    app.state.platform = platform
    app.state.settings = settings
    app.state.object_hooks = (data.DataUploads(platform.data),)
    add_error_handlers(app)
    app.add_middleware(
        CORSMiddleware,
        allow_origins=["*"],
        allow_methods=["*"],
        allow_headers=["*"],
        expose_headers=["Location", "Link", "Preference-Applied"],
    )
    app.add_middleware(BodyLimit, max_bytes=settings.max_body_bytes)

    for router in (landing.router, processes.router, jobs.router):
        app.include_router(router, prefix="/ogc-api", tags=["OGC API - Processes"])
        app.include_router(router, prefix="/{namespace}/ogc-api", tags=["OGC API - Processes (namespace)"])
    app.include_router(objects.router)
    for router in (
        users.router,
        organisations.router,
        credits.router,
        data.router,
        services.router,
        platform_processes.router,
        executions.router,
        openapi.router,
    ):
        app.include_router(router, prefix="/api", tags=["Platform API"])

    stac_dir: Path = settings.demo_stac_dir
    stac_dir.mkdir(parents=True, exist_ok=True)
    app.mount("/stac", StaticFiles(directory=stac_dir), name="stac")

    @app.get("/", include_in_schema=False)
    def home(request: Request) -> Response:
        """Where to go: the OGC APIs of the namespaces and the demo catalog."""
        base = base_url(request)
        doc: dict[str, Any] = {
            "title": "terrafuse",
            "description": "Open Earth-observation processing platform.",
            "version": __version__,
            "links": [
                link(f"{base}/ogc-api/", "service", JSON, "OGC API - Processes (default namespace)"),
                *[
                    link(f"{base}/{ns}/ogc-api/", "service", JSON, f"OGC API - Processes of '{ns}'")
                    for ns in ("acme",)
                    if settings.demo
                ],
                link(f"{base}/stac/catalog.json", "data", JSON, "demo STAC catalog"),
            ],
        }
        if wants_html(request):
            return html.render(request, "terrafuse", doc)
        from fastapi.responses import JSONResponse

        return JSONResponse(doc)

    @app.get("/health", include_in_schema=False)
    def health() -> dict[str, str]:
        """Liveness probe."""
        return {"status": "ok"}

    return app
