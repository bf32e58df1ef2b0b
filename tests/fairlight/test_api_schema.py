from __future__ import annotations

import io

import yaml
from django.core.management import call_command
from django.test import Client

from tests.conftest import World


def test_openapi_schema_generates_without_warnings(db: None) -> None:
    out = io.StringIO()
    call_command("spectacular", "--validate", "--fail-on-warn", stdout=out)
    schema = yaml.safe_load(out.getvalue())
    assert "/api/v1/projects/{project_pk}/memberships/" in schema["paths"]
    assert schema["components"]["securitySchemes"]["tokenAuth"]["in"] == "header"


def test_schema_and_docs_pages_are_served_from_our_origin(world: World) -> None:
    client = world.client("viewer")
    assert client.get("/api/schema/").status_code == 200
    docs = client.get("/api/docs/")
    page = docs.content.decode()
    assert docs.status_code == 200
    assert "/static/drf_spectacular_sidecar/swagger-ui-dist/swagger-ui-bundle.js" in page
    assert "<style" not in page
    assert "<script>" not in page
    assert "'unsafe-inline'" not in docs["Content-Security-Policy"]


def test_vendored_assets_are_served(db: None) -> None:
    client = Client()
    for path in (
        "/static/vendor/htmx/htmx.min.js",
        "/static/vendor/pico/pico.min.css",
        "/static/css/fairlight.css",
    ):
        response = client.get(path)
        assert response.status_code == 200, path
        b"".join(response.streaming_content)  # type: ignore[attr-defined]
