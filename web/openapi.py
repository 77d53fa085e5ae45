"""The OpenAPI 3 document, built from the routes themselves so no route goes missing."""

from __future__ import annotations

import re
from typing import Any

from flask import current_app

PROBLEM = {"$ref": "#/components/responses/Problem"}
_OBJECT = {"type": "object", "additionalProperties": True}

# Request bodies of the routes that take one (path template -> schema).
REQUEST_BODIES: dict[str, dict[str, Any]] = {
    "/api/v1/auth/token": {
        "type": "object",
        "required": ["username", "password"],
        "properties": {"username": {"type": "string"}, "password": {"type": "string"}},
    },
    "/api/v1/process-instances": {
        "type": "object",
        "required": ["process"],
        "properties": {
            "process": {"type": "string"},
            "data": _OBJECT,
            "business_key": {"type": "string", "minLength": 1, "maxLength": 100},
        },
    },
    "/api/v1/tasks/{task_id}/complete": {
        "type": "object",
        "properties": {"data": _OBJECT},
    },
    "/api/v1/messages": {
        "type": "object",
        "required": ["name", "correlation_key"],
        "properties": {
            "name": {"type": "string"},
            "correlation_key": {"type": "string"},
            "data": _OBJECT,
        },
    },
    "/api/v1/otp/verify": {
        "type": "object",
        "required": ["username", "code"],
        "properties": {"username": {"type": "string"}, "code": {"type": "string"}},
    },
    "/api/v1/otp/phone-code": {
        "type": "object",
        "required": ["username"],
        "properties": {"username": {"type": "string"}},
    },
    "/api/v1/tokens/resync": {
        "type": "object",
        "required": ["serial", "code1", "code2"],
        "properties": {
            "serial": {"type": "string"},
            "code1": {"type": "string"},
            "code2": {"type": "string"},
        },
    },
    "/api/v1/tokens/{serial}/reset": {
        "type": "object",
        "properties": {"code1": {"type": "string"}, "code2": {"type": "string"}},
    },
    "/api/v1/apps": {
        "type": "object",
        "required": ["name", "accepts"],
        "properties": {
            "name": {"type": "string"},
            "accepts": {
                "type": "array",
                "items": {"type": "string", "enum": ["hardware_token", "phone"]},
            },
        },
    },
    "/api/v1/groups": {
        "type": "object",
        "required": ["name"],
        "properties": {
            "name": {"type": "string"},
            "users": {"type": "array", "items": {"type": "string"}},
        },
    },
    "/api/v1/groups/{name}/members": {
        "type": "object",
        "required": ["users"],
        "properties": {"users": {"type": "array", "items": {"type": "string"}}},
    },
}
XML_BODIES = {"/api/v1/process-definitions"}
MULTIPART_BODIES = {"/api/v1/tokens/import"}
PUBLIC = {"/api/v1/auth/token", "/api/v1/openapi.json", "/healthz", "/readyz", "/metrics"}
# Operations on a public path that need the bearer token all the same (log out).
SIGNED_IN = {("delete", "/api/v1/auth/token")}


def _path(rule: str) -> tuple[str, list[dict[str, Any]]]:
    params = []
    for converter, name in re.findall(r"<(?:(\w+)(?:\([^)]*\))?:)?(\w+)>", rule):
        schema: dict[str, Any] = {"type": "string"}
        if converter == "int":
            schema = {"type": "integer", "minimum": 0, "maximum": 2147483647}
        params.append({"name": name, "in": "path", "required": True, "schema": schema})
    path = re.sub(r"<(?:\w+(?:\([^)]*\))?:)?(\w+)>", r"{\1}", rule)
    return path, params


def _operation(path: str, method: str, view: Any, params: list[dict[str, Any]]) -> dict[str, Any]:
    doc = (view.__doc__ or view.__name__.replace("_", " ")).strip().splitlines()[0]
    op: dict[str, Any] = {
        "summary": doc,
        "operationId": f"{method}_{view.__name__}",
        "parameters": params,
        "responses": {
            "200": {"description": "OK", "content": {"application/json": {"schema": {}}}},
            "201": {"description": "Created", "content": {"application/json": {"schema": {}}}},
            **{code: PROBLEM for code in ("400", "401", "403", "404", "409", "413", "422", "429")},
        },
    }
    if path not in PUBLIC or (method, path) in SIGNED_IN:
        op["security"] = [{"bearer": []}]
    if method == "post":
        if path in REQUEST_BODIES:
            op["requestBody"] = {
                "required": True,
                "content": {"application/json": {"schema": REQUEST_BODIES[path]}},
            }
        elif path in XML_BODIES:
            op["requestBody"] = {
                "required": True,
                "content": {
                    "application/xml": {"schema": {"type": "string"}},
                    "multipart/form-data": {"schema": _OBJECT},
                },
            }
        elif path in MULTIPART_BODIES:
            op["requestBody"] = {
                "required": True,
                "content": {
                    "multipart/form-data": {
                        "schema": {
                            "type": "object",
                            "properties": {
                                "file": {"type": "string", "format": "binary"},
                                "psk": {"type": "string"},
                                "password": {"type": "string"},
                            },
                        }
                    }
                },
            }
    return op


def document() -> dict[str, Any]:
    paths: dict[str, dict[str, Any]] = {}
    for rule in current_app.url_map.iter_rules():
        if not (rule.rule.startswith("/api/v1") or rule.rule in PUBLIC):
            continue
        view = current_app.view_functions[rule.endpoint]
        for action_rule in _expand(rule.rule):
            path, params = _path(action_rule)
            for method in sorted((rule.methods or set()) - {"HEAD", "OPTIONS"}):
                paths.setdefault(path, {})[method.lower()] = _operation(
                    path, method.lower(), view, params
                )
    return {
        "openapi": "3.0.3",
        "info": {"title": "Tokenflow API", "version": "1"},
        "paths": paths,
        "components": {
            "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}},
            "responses": {
                "Problem": {
                    "description": "An RFC 9457 problem",
                    "content": {
                        "application/problem+json": {
                            "schema": {
                                "type": "object",
                                "properties": {
                                    "title": {"type": "string"},
                                    "detail": {"type": "string"},
                                    "status": {"type": "integer"},
                                    "errors": _OBJECT,
                                },
                            }
                        }
                    },
                }
            },
        },
    }


def _expand(rule: str) -> list[str]:
    """`<any(a, b):action>` becomes one concrete path per choice."""
    match = re.search(r"<any\(([^)]*)\):\w+>", rule)
    if not match:
        return [rule]
    choices = [c.strip() for c in match.group(1).split(",")]
    return [rule[: match.start()] + c + rule[match.end() :] for c in choices]
