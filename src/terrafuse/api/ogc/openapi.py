"""The OpenAPI 3.0 document of a namespace's OGC API (the ``oas30`` conformance class).

Hand-built rather than FastAPI's (which is OpenAPI 3.1), and specific to the processes on
offer: each process gets an execute request schema derived from its input descriptions.
"""

from __future__ import annotations

from typing import Any

from terrafuse.services.base import Service

_REF = "#/components/schemas/"


def _ref(name: str) -> dict[str, str]:
    return {"$ref": _REF + name}


def _json(schema: dict[str, Any], description: str) -> dict[str, Any]:
    return {"description": description, "content": {"application/json": {"schema": schema}}}


_ERRORS = {
    "400": _json(_ref("exception"), "Invalid request"),
    "404": _json(_ref("exception"), "Not found"),
    "500": _json(_ref("exception"), "Server error"),
}
_F = {"name": "f", "in": "query", "required": False, "schema": {"type": "string", "enum": ["json", "html"]}}
_LIMIT = {
    "name": "limit",
    "in": "query",
    "required": False,
    "schema": {"type": "integer", "minimum": 1, "maximum": 10000, "default": 10},
}
_OFFSET = {
    "name": "offset",
    "in": "query",
    "required": False,
    "schema": {"type": "integer", "minimum": 0, "default": 0},
}
_JOB = {"name": "jobId", "in": "path", "required": True, "schema": {"type": "string"}}
_PROCESS = {"name": "processID", "in": "path", "required": True, "schema": {"type": "string"}}


def _array_param(name: str, items: dict[str, Any]) -> dict[str, Any]:
    return {
        "name": name,
        "in": "query",
        "required": False,
        "style": "form",
        "explode": False,
        "schema": {"type": "array", "items": items},
    }


_STATUS = {"type": "string", "enum": ["accepted", "running", "successful", "failed", "dismissed"]}

_SCHEMAS: dict[str, Any] = {
    "link": {
        "type": "object",
        "required": ["href"],
        "properties": {k: {"type": "string"} for k in ("href", "rel", "type", "hreflang", "title")},
    },
    "exception": {
        "type": "object",
        "required": ["type"],
        "additionalProperties": True,
        "properties": {
            "type": {"type": "string"},
            "title": {"type": "string"},
            "status": {"type": "integer"},
            "detail": {"type": "string"},
            "instance": {"type": "string"},
        },
    },
    "landingPage": {
        "type": "object",
        "required": ["links"],
        "properties": {
            "title": {"type": "string"},
            "description": {"type": "string"},
            "links": {"type": "array", "items": _ref("link")},
        },
    },
    "confClasses": {
        "type": "object",
        "required": ["conformsTo"],
        "properties": {"conformsTo": {"type": "array", "items": {"type": "string"}}},
    },
    "processSummary": {
        "type": "object",
        "required": ["id", "version"],
        "properties": {
            "id": {"type": "string"},
            "version": {"type": "string"},
            "title": {"type": "string"},
            "description": {"type": "string"},
            "keywords": {"type": "array", "items": {"type": "string"}},
            "jobControlOptions": {
                "type": "array",
                "items": {"type": "string", "enum": ["sync-execute", "async-execute", "dismiss"]},
            },
            "outputTransmission": {
                "type": "array",
                "items": {"type": "string", "enum": ["value", "reference"]},
            },
            "links": {"type": "array", "items": _ref("link")},
        },
    },
    "processList": {
        "type": "object",
        "required": ["processes", "links"],
        "properties": {
            "processes": {"type": "array", "items": _ref("processSummary")},
            "links": {"type": "array", "items": _ref("link")},
        },
    },
    "process": {
        "allOf": [
            _ref("processSummary"),
            {
                "type": "object",
                "properties": {
                    "inputs": {"type": "object", "additionalProperties": {"type": "object"}},
                    "outputs": {"type": "object", "additionalProperties": {"type": "object"}},
                },
            },
        ],
    },
    "statusInfo": {
        "type": "object",
        "required": ["jobID", "status", "type"],
        "properties": {
            "jobID": {"type": "string"},
            "processID": {"type": "string"},
            "type": {"type": "string", "enum": ["process"]},
            "status": _STATUS,
            "message": {"type": "string"},
            "created": {"type": "string", "format": "date-time"},
            "started": {"type": "string", "format": "date-time"},
            "finished": {"type": "string", "format": "date-time"},
            "updated": {"type": "string", "format": "date-time"},
            "progress": {"type": "integer", "minimum": 0, "maximum": 100},
            "links": {"type": "array", "items": _ref("link")},
        },
    },
    "jobList": {
        "type": "object",
        "required": ["jobs", "links"],
        "properties": {
            "jobs": {"type": "array", "items": _ref("statusInfo")},
            "links": {"type": "array", "items": _ref("link")},
        },
    },
    "results": {"type": "object", "additionalProperties": True},
    "subscriber": {
        "type": "object",
        "properties": {
            k: {"type": "string", "format": "uri"} for k in ("successUri", "inProgressUri", "failedUri")
        },
    },
    "execute": {
        "type": "object",
        "properties": {
            "inputs": {"type": "object", "additionalProperties": True},
            "outputs": {
                "type": "object",
                "additionalProperties": {
                    "type": "object",
                    "properties": {
                        "transmissionMode": {"type": "string", "enum": ["value", "reference"]},
                        "format": {"type": "object", "properties": {"mediaType": {"type": "string"}}},
                    },
                },
            },
            "response": {"type": "string", "enum": ["raw", "document"], "default": "raw"},
            "subscriber": _ref("subscriber"),
        },
    },
}


def oas30(schema: Any) -> Any:
    """A JSON Schema rewritten in the OpenAPI 3.0 dialect: ``const`` becomes a one-value ``enum``
    and a list of types becomes one type (``nullable`` for null) or an ``anyOf`` of types."""
    if isinstance(schema, list):
        return [oas30(item) for item in schema]
    if not isinstance(schema, dict):
        return schema
    out: dict[str, Any] = {}
    for key, value in schema.items():
        if key == "const":
            out["enum"] = [value]
        elif key == "type" and isinstance(value, list):
            types = [t for t in value if t != "null"]
            if len(types) != len(value):
                out["nullable"] = True
            if len(types) == 1:
                out["type"] = types[0]
            elif types:
                out["anyOf"] = [{"type": t} for t in types]
        elif key == "properties" and isinstance(value, dict):
            out[key] = {name: oas30(sub) for name, sub in value.items()}
        else:
            out[key] = oas30(value)
    return out


def _execute_schema(service: Service) -> dict[str, Any]:
    desc = service.description
    inputs: dict[str, Any] = {}
    required = []
    for name, i in desc.inputs.items():
        plain = {k: v for k, v in i.schema.items() if k not in ("contentMediaType", "contentEncoding")}
        schema = oas30(plain)
        if i.max_occurs != 1:
            schema = {"type": "array", "items": schema}
        inputs[name] = {
            "description": i.title,
            "oneOf": [
                schema,
                {"type": "object", "required": ["value"]},
                {"type": "object", "required": ["href"]},
            ],
        }
        if i.min_occurs > 0 and "default" not in i.schema:
            required.append(name)
    body: dict[str, Any] = {"type": "object", "properties": inputs}
    if required:
        body["required"] = required
    return {"allOf": [_ref("execute"), {"type": "object", "properties": {"inputs": body}}]}


def openapi_document(root: str, services: list[Service]) -> dict[str, Any]:
    """The OpenAPI 3.0 document for the API rooted at ``root``."""
    schemas = dict(_SCHEMAS)
    for service in services:
        schemas[f"execute-{service.description.id}"] = _execute_schema(service)
    execute_body = (
        {"oneOf": [_ref(f"execute-{s.description.id}") for s in services]} if services else _ref("execute")
    )
    prefer = {
        "name": "Prefer",
        "in": "header",
        "required": False,
        "schema": {"type": "string"},
        "description": "respond-async to run asynchronously; return=representation for a results document",
    }
    paths: dict[str, Any] = {
        "/": {
            "get": {
                "operationId": "getLandingPage",
                "summary": "Landing page",
                "parameters": [_F],
                "responses": {"200": _json(_ref("landingPage"), "Landing page")},
            }
        },
        "/conformance": {
            "get": {
                "operationId": "getConformanceClasses",
                "summary": "Conformance classes",
                "parameters": [_F],
                "responses": {"200": _json(_ref("confClasses"), "Conformance")},
            }
        },
        "/api": {
            "get": {
                "operationId": "getAPI",
                "summary": "This document",
                "parameters": [_F],
                "responses": {
                    "200": {
                        "description": "The OpenAPI document",
                        "content": {
                            "application/vnd.oai.openapi+json;version=3.0": {"schema": {"type": "object"}}
                        },
                    }
                },
            }
        },
        "/processes": {
            "get": {
                "operationId": "getProcesses",
                "summary": "List processes",
                "parameters": [_F, _LIMIT, _OFFSET],
                "responses": {"200": _json(_ref("processList"), "Process list"), "400": _ERRORS["400"]},
            }
        },
        "/processes/{processID}": {
            "get": {
                "operationId": "getProcessDescription",
                "summary": "Describe a process",
                "parameters": [_PROCESS, _F],
                "responses": {"200": _json(_ref("process"), "Process description"), "404": _ERRORS["404"]},
            }
        },
        "/processes/{processID}/execution": {
            "post": {
                "operationId": "execute",
                "summary": "Execute a process",
                "parameters": [_PROCESS, prefer],
                "requestBody": {"required": True, "content": {"application/json": {"schema": execute_body}}},
                "responses": {
                    "200": {
                        "description": "Results (synchronous execution)",
                        "content": {"application/json": {"schema": _ref("results")}},
                    },
                    "201": {
                        "description": "Job created (asynchronous execution)",
                        "headers": {
                            "Location": {"schema": {"type": "string"}, "description": "URL of the job"}
                        },
                        "content": {"application/json": {"schema": _ref("statusInfo")}},
                    },
                    "204": {"description": "Results sent by reference (Link headers)"},
                    **_ERRORS,
                },
            }
        },
        "/jobs": {
            "get": {
                "operationId": "getJobs",
                "summary": "List jobs",
                "parameters": [
                    _F,
                    _LIMIT,
                    _OFFSET,
                    _array_param("type", {"type": "string", "enum": ["process"]}),
                    _array_param("processID", {"type": "string"}),
                    _array_param("status", _STATUS),
                    {"name": "datetime", "in": "query", "required": False, "schema": {"type": "string"}},
                    {
                        "name": "minDuration",
                        "in": "query",
                        "required": False,
                        "schema": {"type": "number", "minimum": 0},
                    },
                    {
                        "name": "maxDuration",
                        "in": "query",
                        "required": False,
                        "schema": {"type": "number", "minimum": 0},
                    },
                ],
                "responses": {"200": _json(_ref("jobList"), "Job list"), "400": _ERRORS["400"]},
            }
        },
        "/jobs/{jobId}": {
            "get": {
                "operationId": "getStatus",
                "summary": "Job status",
                "parameters": [_JOB, _F],
                "responses": {"200": _json(_ref("statusInfo"), "Status"), "404": _ERRORS["404"]},
            },
            "delete": {
                "operationId": "dismiss",
                "summary": "Dismiss a job",
                "parameters": [_JOB],
                "responses": {"200": _json(_ref("statusInfo"), "Dismissed"), "404": _ERRORS["404"]},
            },
        },
        "/jobs/{jobId}/results": {
            "get": {
                "operationId": "getResult",
                "summary": "Job results",
                "parameters": [_JOB],
                "responses": {"200": _json(_ref("results"), "Results"), **_ERRORS},
            }
        },
    }
    return {
        "openapi": "3.0.3",
        "info": {
            "title": "terrafuse OGC API - Processes",
            "version": "1.0.0",
            "description": "Run Earth-observation processes and follow their jobs (OGC API - Processes 1.0).",
        },
        "servers": [{"url": root}],
        "paths": paths,
        "components": {"schemas": schemas},
    }
