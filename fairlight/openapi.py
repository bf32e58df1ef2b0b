"""The error answers every API operation can give, added to the OpenAPI schema in one place.

drf-spectacular documents the success responses a view declares; the 4xx answers come from DRF's
authentication, permission, parsing and pagination code, which every viewset shares, so the
schema lists them here rather than on each of our ~70 operations. Clients (and schemathesis)
can then rely on every status code the API sends being documented, with its body's shape.
"""

from __future__ import annotations

from typing import Any

ERROR = {
    "type": "object",
    "description": "Why the request was refused, in plain words.",
    "properties": {"detail": {"type": "string"}},
    "required": ["detail"],
}
# DRF's validation errors: messages by field (nested for nested input), or a list of messages.
VALIDATION_ERROR = {
    "description": "What is wrong with the input: messages by field name, or a list of messages.",
    "oneOf": [
        {"type": "object", "additionalProperties": {}},
        {"type": "array", "items": {"type": "string"}},
    ],
}
METHODS = ("get", "put", "post", "patch", "delete")


def _response(description: str, schema: str) -> dict[str, Any]:
    return {
        "description": description,
        "content": {"application/json": {"schema": {"$ref": f"#/components/schemas/{schema}"}}},
    }


def _body_names_a_project(operation: dict[str, Any], schemas: dict[str, Any]) -> bool:
    """Creating a dataset or a submission names its project in the body, and a project the caller
    cannot see is refused with 404 before the body is read, exactly like one that does not exist."""
    for media in operation.get("requestBody", {}).get("content", {}).values():
        name = str(media.get("schema", {}).get("$ref", "")).rsplit("/", 1)[-1]
        if "project" in schemas.get(name, {}).get("properties", {}):
            return True
    return False


def _error_responses(operation: dict[str, Any], schemas: dict[str, Any]) -> dict[str, dict[str, Any]]:
    responses = {
        # Services refuse what an object's state does not allow (an upgrade with nothing newer, a
        # build before the check) with the same 400 as invalid input, so any operation may give it.
        "400": _response(
            "The input is invalid, or the object's state does not allow this; nothing was changed.",
            "ValidationError",
        ),
        "401": _response("Not logged in, or the token is invalid or revoked.", "Error"),
        "403": _response("Your role in the project does not allow this.", "Error"),
    }
    # Ids in the path, the query or a body's project, and page numbers, can name something not there.
    if operation.get("parameters") or _body_names_a_project(operation, schemas):
        responses["404"] = _response("No such object among those you may see (or no such page).", "Error")
    if "requestBody" in operation:
        responses["415"] = _response(
            "The request body's media type is not one this operation reads.", "Error"
        )
    return responses


def document_error_responses(result: dict[str, Any], **kwargs: Any) -> dict[str, Any]:
    """drf-spectacular postprocessing hook: add the shared error responses to every operation."""
    schemas = result.setdefault("components", {}).setdefault("schemas", {})
    schemas.setdefault("Error", ERROR)
    schemas.setdefault("ValidationError", VALIDATION_ERROR)
    for path in result.get("paths", {}).values():
        for method in METHODS:
            if method in path:
                responses = path[method].setdefault("responses", {})
                for status, response in _error_responses(path[method], schemas).items():
                    responses.setdefault(status, response)
    return result
