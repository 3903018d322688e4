"""HTML views of the API documents (the OGC ``html`` conformance class)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from fastapi import Request
from fastapi.responses import HTMLResponse
from jinja2 import Environment, FileSystemLoader, select_autoescape

_ENV = Environment(
    loader=FileSystemLoader(Path(__file__).parent / "templates"),
    autoescape=select_autoescape(["html"]),
)


def render(
    request: Request, title: str, doc: dict[str, Any], kind: str = "document", status: int = 200
) -> HTMLResponse:
    """Render ``doc`` as an HTML page of the given kind."""
    template = _ENV.get_template("document.html")
    html = template.render(
        title=title,
        kind=kind,
        doc=doc,
        links=[link for link in doc.get("links", []) if isinstance(link, dict)],
        pretty=json.dumps(doc, indent=2, ensure_ascii=False),
        request=request,
    )
    return HTMLResponse(html, status_code=status)
