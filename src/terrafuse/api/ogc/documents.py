"""OGC API - Processes 1.0 documents, built from domain objects. Pure: no FastAPI, no I/O.

Used by the routes and by the callback notifier, so both send the same shapes.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

from terrafuse.core.executions import Execution, ExecutionStatus
from terrafuse.core.refs import resolve_object_refs
from terrafuse.services.base import InputDescription, OutputDescription, ServiceDescription

CONF = "http://www.opengis.net/spec/ogcapi-processes-1/1.0/conf/"
CONFORMANCE_CLASSES = [
    f"{CONF}core",
    f"{CONF}ogc-process-description",
    f"{CONF}json",
    f"{CONF}html",
    f"{CONF}oas30",
    f"{CONF}job-list",
    f"{CONF}dismiss",
    f"{CONF}callback",
    "http://www.opengis.net/spec/ogcapi-common-1/1.0/conf/core",
    "http://www.opengis.net/spec/ogcapi-common-1/1.0/conf/json",
    "http://www.opengis.net/spec/ogcapi-common-1/1.0/conf/html",
    "http://www.opengis.net/spec/ogcapi-common-1/1.0/conf/oas30",
]
REL = "http://www.opengis.net/def/rel/ogc/1.0/"
EXCEPTIONS = "http://www.opengis.net/def/exceptions/"
JSON = "application/json"
HTML = "text/html"
OPENAPI_JSON = "application/vnd.oai.openapi+json;version=3.0"


def link(href: str, rel: str, type_: str | None = JSON, title: str | None = None) -> dict[str, str]:
    """A link object."""
    out = {"href": href, "rel": rel}
    if type_:
        out["type"] = type_
    if title:
        out["title"] = title
    return out


def self_links(url: str, title: str | None = None) -> list[dict[str, str]]:
    """``self`` (JSON) and ``alternate`` (HTML) links for a resource at ``url``."""
    sep = "&" if "?" in url else "?"
    return [
        link(f"{url}{sep}f=json", "self", JSON, title),
        link(f"{url}{sep}f=html", "alternate", HTML, title and f"{title} as HTML"),
    ]


def iso(value: datetime | None) -> str | None:
    """RFC 3339 text of an aware datetime (``Z`` for UTC)."""
    return None if value is None else value.isoformat().replace("+00:00", "Z")


def landing_page(root: str, title: str) -> dict[str, Any]:
    """The landing page of one namespace's API."""
    return {
        "title": title,
        "description": "OGC API - Processes of the terrafuse Earth-observation platform.",
        "links": [
            *self_links(root + "/", "this document"),
            link(f"{root}/api", "service-desc", OPENAPI_JSON, "the API definition (OpenAPI 3.0)"),
            link(f"{root}/api?f=html", "service-doc", HTML, "the API documentation"),
            link(f"{root}/conformance", f"{REL}conformance", JSON, "conformance classes"),
            link(f"{root}/processes", f"{REL}processes", JSON, "processes"),
            link(f"{root}/jobs", f"{REL}job-list", JSON, "jobs"),
        ],
    }


def conformance() -> dict[str, Any]:
    """The conformance declaration."""
    return {"conformsTo": CONFORMANCE_CLASSES}


def _description_fields(title: str, description: str, keywords: tuple[str, ...]) -> dict[str, Any]:
    out: dict[str, Any] = {"title": title}
    if description:
        out["description"] = description
    if keywords:
        out["keywords"] = list(keywords)
    return out


def process_summary(root: str, desc: ServiceDescription) -> dict[str, Any]:
    """A process summary (for the process list)."""
    url = f"{root}/processes/{desc.id}"
    return {
        "id": desc.id,
        "version": desc.version,
        **_description_fields(desc.title, desc.description, desc.keywords),
        "jobControlOptions": list(desc.job_control),
        "outputTransmission": ["value", "reference"],
        "links": [
            link(url, "self", JSON, "process description"),
            link(f"{url}?f=html", "alternate", HTML, "process description as HTML"),
            link(f"{url}/execution", f"{REL}execute", JSON, "execute the process"),
        ],
    }


def _input(desc: InputDescription) -> dict[str, Any]:
    return {
        **_description_fields(desc.title, desc.description, desc.keywords),
        "minOccurs": desc.min_occurs,
        "maxOccurs": desc.max_occurs,
        "schema": desc.schema,
    }


def _output(desc: OutputDescription) -> dict[str, Any]:
    return {**_description_fields(desc.title, desc.description, ()), "schema": desc.schema}


def process_description(root: str, desc: ServiceDescription) -> dict[str, Any]:
    """The full process description (summary + inputs and outputs keyed by id)."""
    out = process_summary(root, desc)
    out["inputs"] = {name: _input(d) for name, d in desc.inputs.items()}
    out["outputs"] = {name: _output(d) for name, d in desc.outputs.items()}
    out["links"] += [link(f"{root}/processes", "up", JSON, "the process list")]
    return out


def status_info(root: str, execution: Execution) -> dict[str, Any]:
    """The statusInfo document of a job."""
    url = f"{root}/jobs/{execution.id}"
    doc: dict[str, Any] = {
        "jobID": execution.id,
        "processID": execution.service_id,
        "type": "process",
        "status": execution.status.value,
    }
    if execution.message:
        doc["message"] = execution.message
    for key, value in (
        ("created", execution.created_at),
        ("started", execution.started_at),
        ("finished", execution.finished_at),
        ("updated", execution.updated_at),
    ):
        if value is not None:
            doc[key] = iso(value)
    doc["progress"] = execution.progress
    links = [
        link(url, "self", JSON, "job status"),
        link(url, "status", JSON, "job status"),
        link(f"{url}?f=html", "alternate", HTML, "job status as HTML"),
        link(f"{root}/jobs", "up", JSON, "the job list"),
    ]
    if execution.status is ExecutionStatus.SUCCESSFUL:
        links.append(link(f"{url}/results", f"{REL}results", JSON, "job results"))
    elif execution.status is ExecutionStatus.FAILED:
        links.append(link(f"{url}/results", f"{REL}exceptions", JSON, "why the job failed"))
    doc["links"] = links
    return doc


def exception(
    type_: str, title: str, status: int, detail: str, instance: str | None = None
) -> dict[str, Any]:
    """An RFC 7807 exception body."""
    out: dict[str, Any] = {"type": type_, "title": title, "status": status, "detail": detail}
    if instance:
        out["instance"] = instance
    return out


def output_media_type(desc: OutputDescription) -> str:
    """The media type of an output's value."""
    schema = desc.schema
    if "contentMediaType" in schema:
        return str(schema["contentMediaType"])
    return "text/plain" if schema.get("type") == "string" else JSON


def results_document(
    root: str,
    execution: Execution,
    desc: ServiceDescription,
    url_for: Callable[[str], str],
) -> dict[str, Any]:
    """The results document (``response=document``): one entry per requested output.

    Values are qualified values ``{"value", "mediaType"}``; outputs requested by reference are
    links to ``/jobs/{id}/results/{output}``. Stored-object references become signed URLs.
    """
    outputs = resolve_object_refs(execution.outputs or {}, url_for)
    wanted = execution.request.outputs
    doc: dict[str, Any] = {}
    for name, value in outputs.items():
        if wanted is not None and name not in wanted:
            continue
        out_desc = desc.outputs.get(name)
        media_type = output_media_type(out_desc) if out_desc else JSON
        transmission = wanted[name].transmission if wanted is not None else "value"
        if transmission == "reference":
            doc[name] = {"href": f"{root}/jobs/{execution.id}/results/{name}", "type": media_type}
        elif isinstance(value, dict) and "href" in value and len(value) <= 3:
            doc[name] = value  # already a link (an input passed by reference, echoed)
        else:
            entry: dict[str, Any] = {"value": value, "mediaType": media_type}
            if out_desc and out_desc.schema.get("contentEncoding") == "base64":
                entry["encoding"] = "base64"
            doc[name] = entry
    return doc


def job_list(root: str, executions: list[Execution], page_links: list[dict[str, str]]) -> dict[str, Any]:
    """The job list."""
    return {"jobs": [status_info(root, e) for e in executions], "links": page_links}
