"""Run `bia-ro-crate validate` on a crate without the network.

The validator reads the RO-Crate 1.1 JSON-LD context from https://w3id.org/ro/crate/1.1/context
three ways: rdflib through urllib, pyld through its document loader and roc-validator through a
requests session. This script answers all three from the context that the `rocrate` package
ships (RO-Crate 1.3: later contexts add terms, and the ones our crates use — schema.org names,
File, conformsTo — keep their 1.1 IRIs), refuses any other address and blocks sockets, so a
validator that tried to fetch anything else fails here instead of reaching the internet.
Usage: python -m tests.repositories.offline_bia_validate DIR
"""

from __future__ import annotations

import email.message
import io
import json
import socket
import sys
import urllib.request
from importlib import resources
from typing import Any

import requests
import urllib3
from pyld import jsonld
from requests.adapters import BaseAdapter

RO_CRATE_CONTEXTS = ("https://w3id.org/ro/crate/1.1/context", "https://w3id.org/ro/crate/1.1/context/")


def _context_document() -> dict[str, Any]:
    shipped = json.loads(resources.files("rocrate").joinpath("data/ro-crate.jsonld").read_text("utf-8"))
    return {"@context": shipped["@context"]}


CONTEXT = _context_document()
CONTEXT_BYTES = json.dumps(CONTEXT).encode()


class Offline(OSError):
    pass


def _refuse(url: str) -> Offline:
    return Offline(f"offline validation: refusing to fetch {url}")


class _ContextHandler(urllib.request.BaseHandler):
    handler_order = 100  # before urllib's own HTTP(S) handlers

    def https_open(self, request: urllib.request.Request) -> Any:
        return self._answer(request.full_url)

    def http_open(self, request: urllib.request.Request) -> Any:
        return self._answer(request.full_url)

    def _answer(self, url: str) -> Any:
        if url not in RO_CRATE_CONTEXTS:
            raise _refuse(url)
        headers = email.message.Message()
        headers["Content-Type"] = "application/ld+json"
        response = urllib.response.addinfourl(io.BytesIO(CONTEXT_BYTES), headers, url, 200)
        response.msg = "OK"  # type: ignore[attr-defined]  # read by urllib's response processors, as on a real HTTPResponse
        return response


class _ContextAdapter(BaseAdapter):
    def send(self, request: requests.PreparedRequest, *args: Any, **kwargs: Any) -> requests.Response:
        url = str(request.url)
        if url not in RO_CRATE_CONTEXTS:
            raise _refuse(url)
        response = requests.Response()
        response.status_code = 200
        response.url = url
        response.headers["Content-Type"] = "application/ld+json"
        response._content = CONTEXT_BYTES
        # requests-cache (roc-validator's session) stores the raw urllib3 response as well.
        response.raw = urllib3.HTTPResponse(
            body=io.BytesIO(CONTEXT_BYTES),
            headers={"Content-Type": "application/ld+json"},
            status=200,
            preload_content=False,
            request_url=url,
        )
        response.request = request
        return response

    def close(self) -> None:
        pass


def _pyld_loader(url: str, options: dict[str, Any] | None = None) -> dict[str, Any]:
    if url not in RO_CRATE_CONTEXTS:
        raise _refuse(url)
    return {"contextUrl": None, "documentUrl": url, "document": CONTEXT}


def _no_sockets(*args: Any, **kwargs: Any) -> None:
    raise Offline("offline validation: a socket connection was attempted")


def go_offline() -> None:
    socket.socket.connect = _no_sockets  # type: ignore[method-assign]
    urllib.request.install_opener(urllib.request.build_opener(_ContextHandler()))
    jsonld.set_document_loader(_pyld_loader)
    from rocrate_validator.utils.http import HttpRequester  # type: ignore[import-untyped]

    session = HttpRequester().session
    for prefix in ("https://", "http://"):
        session.mount(prefix, _ContextAdapter())


def main(argv: list[str]) -> int:
    go_offline()
    from bia_ro_crate.cli import bia_ro_crate  # type: ignore[import-untyped]

    try:
        bia_ro_crate(["validate", *argv], standalone_mode=False)
    except SystemExit as exit_:
        return int(exit_.code or 0)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
