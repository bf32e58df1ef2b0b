"""A typed client for Zenodo's InvenioRDM REST API, on the standard library alone.

The steps follow the documented API: ``POST /api/records`` creates a draft; each file is
initiated (``POST …/draft/files``), its bytes streamed from disk (``PUT …/content``) and
committed (``POST …/commit``), after which Zenodo reports its MD5, which must equal the MD5 of
the bytes we sent; ``POST …/draft/actions/publish`` publishes; ``POST /api/records/{id}/versions``
starts a new version. Everything FAIRlight can check itself (metadata, embargo rules, file
limits, uncommitted files) is refused before the request that Zenodo would reject.
"""

from __future__ import annotations

import hashlib
import http.client
import json
import ssl
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import IO, Any
from urllib.parse import quote, urlsplit

from repositories.zenodo.errors import (
    FieldError,
    Problem,
    ZenodoChecksumError,
    ZenodoConfigurationError,
    ZenodoError,
    ZenodoInvalid,
)
from repositories.zenodo.metadata import (
    Access,
    FileToUpload,
    RecordMetadata,
    access_json,
    access_problems,
    file_problems,
    limit_problems,
    record_json,
)

SANDBOX_URL = "https://sandbox.zenodo.org"
DEFAULT_TIMEOUT_SECONDS = 60.0
# Bytes handed to the socket per write while streaming a file.
UPLOAD_BLOCK_BYTES = 1024 * 1024


@dataclass(frozen=True)
class RemoteFile:
    """A file on a draft or record as Zenodo reports it."""

    key: str
    status: str
    size: int | None
    checksum: str

    @property
    def committed(self) -> bool:
        return self.status == "completed"

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> RemoteFile:
        size = data.get("size")
        return cls(
            key=str(data.get("key", "")),
            status=str(data.get("status", "")),
            size=int(size) if isinstance(size, int | float) else None,
            checksum=str(data.get("checksum") or ""),
        )


@dataclass(frozen=True)
class ZenodoRecord:
    """A draft or published record; ``data`` keeps Zenodo's whole answer."""

    id: str
    parent_id: str
    is_published: bool
    doi: str
    parent_doi: str
    version_index: int
    access: dict[str, Any]
    errors: tuple[FieldError, ...]
    links: dict[str, str]
    data: dict[str, Any] = field(repr=False)

    @property
    def embargo_until(self) -> date | None:
        embargo = self.access.get("embargo") or {}
        until = embargo.get("until")
        if not embargo.get("active") or not until:
            return None
        return date.fromisoformat(str(until)[:10])

    @property
    def html_url(self) -> str:
        return self.links.get("self_html", "")

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> ZenodoRecord:
        parent = data.get("parent") or {}
        versions = data.get("versions") or {}
        return cls(
            id=str(data.get("id", "")),
            parent_id=str(parent.get("id", "")),
            is_published=bool(data.get("is_published")),
            doi=_doi_of(data),
            parent_doi=_doi_of(parent),
            version_index=int(versions.get("index", 1)),
            access=dict(data.get("access") or {}),
            errors=_field_errors(data.get("errors")),
            links={str(k): str(v) for k, v in (data.get("links") or {}).items()},
            data=data,
        )


def _doi_of(data: dict[str, Any]) -> str:
    doi = (data.get("pids") or {}).get("doi") or {}
    return str(doi.get("identifier", ""))


def _field_errors(raw: object) -> tuple[FieldError, ...]:
    if not isinstance(raw, list):
        return ()
    errors: list[FieldError] = []
    for entry in raw:
        if not isinstance(entry, dict):
            continue
        messages = entry.get("messages") or []
        if not isinstance(messages, list):
            messages = [messages]
        errors.append(FieldError(str(entry.get("field", "")), tuple(str(m) for m in messages)))
    return tuple(errors)


class _HashingReader:
    """Feeds a file to http.client block by block, hashing exactly what is sent."""

    def __init__(self, handle: IO[bytes], size: int, *, sha256: bool) -> None:
        self._handle = handle
        self._remaining = size
        self.md5 = hashlib.md5(usedforsecurity=False)
        self.sha256 = hashlib.sha256() if sha256 else None

    def read(self, amount: int = -1) -> bytes:
        if self._remaining <= 0:
            return b""
        wanted = self._remaining if amount < 0 else min(amount, self._remaining)
        chunk = self._handle.read(wanted)
        if not chunk:
            # Content-Length is already on the wire; a short body would hang the server.
            raise ZenodoChecksumError(
                f"The file shrank while it was being uploaded ({self._remaining} bytes missing)."
            )
        self._remaining -= len(chunk)
        self.md5.update(chunk)
        if self.sha256 is not None:
            self.sha256.update(chunk)
        return chunk


class ZenodoClient:
    """Talks to one Zenodo (or other InvenioRDM) instance with one personal access token."""

    def __init__(self, *, base_url: str, token: str, timeout: float = DEFAULT_TIMEOUT_SECONDS) -> None:
        parts = urlsplit(base_url.strip())
        if parts.scheme not in {"http", "https"} or not parts.hostname or parts.query or parts.fragment:
            raise ZenodoConfigurationError(
                f"“{base_url}” is not a usable Zenodo address; use e.g. {SANDBOX_URL} or https://zenodo.org."
            )
        if not token.strip():
            raise ZenodoConfigurationError(
                "No Zenodo token: set FAIRLIGHT_ZENODO_TOKEN to a personal access token with the "
                "deposit:write and deposit:actions scopes (Zenodo → Account → Applications)."
            )
        if timeout <= 0:
            raise ZenodoConfigurationError("The timeout must be a positive number of seconds.")
        self.base_url = f"{parts.scheme}://{parts.netloc}{parts.path.rstrip('/')}"
        self._scheme = parts.scheme
        self._host = parts.hostname
        self._port = parts.port
        self._prefix = parts.path.rstrip("/")
        self._token = token.strip()
        self.timeout = timeout

    # --- drafts and records ---------------------------------------------------------------------

    def create_draft(
        self, *, metadata: RecordMetadata, access: Access, today: date | None = None
    ) -> ZenodoRecord:
        """Create a draft; its ``errors`` list what Zenodo will still refuse at publish time."""
        body = record_json(metadata, access, today=today)
        data = self._json("POST", "/api/records", body, expected=(201,), doing="creating the draft")
        return ZenodoRecord.from_json(data)

    def update_draft(
        self, *, record_id: str, metadata: RecordMetadata, access: Access, today: date | None = None
    ) -> ZenodoRecord:
        body = record_json(metadata, access, today=today)
        data = self._json(
            "PUT", self._draft_path(record_id), body, expected=(200,), doing=f"updating draft {record_id}"
        )
        return ZenodoRecord.from_json(data)

    def get_draft(self, *, record_id: str) -> ZenodoRecord:
        data = self._json(
            "GET", self._draft_path(record_id), expected=(200,), doing=f"reading draft {record_id}"
        )
        return ZenodoRecord.from_json(data)

    def get_record(self, *, record_id: str) -> ZenodoRecord:
        data = self._json(
            "GET",
            f"/api/records/{quote(record_id, safe='')}",
            expected=(200,),
            doing=f"reading record {record_id}",
        )
        return ZenodoRecord.from_json(data)

    def set_access(self, *, record_id: str, access: Access, today: date | None = None) -> ZenodoRecord:
        """Replace the draft's access (visibility and embargo), keeping its metadata as it is."""
        problems = access_problems(access, today=today)
        if problems:
            raise ZenodoInvalid("The access settings are not valid:", problems)
        draft = self.get_draft(record_id=record_id)
        files = draft.data.get("files") or {}
        body = {
            "metadata": draft.data.get("metadata") or {},
            "access": access_json(access),
            "files": {"enabled": bool(files.get("enabled", True))},
        }
        data = self._json(
            "PUT",
            self._draft_path(record_id),
            body,
            expected=(200,),
            doing=f"setting access of draft {record_id}",
        )
        return ZenodoRecord.from_json(data)

    def update_access(self, *, record_id: str, access: Access, today: date | None = None) -> ZenodoRecord:
        """Change the access of a published record (a new embargo date, or its files public now):
        open it for editing, replace the access, publish the edit. The record keeps its id, DOI,
        metadata and files. An edit left open by an earlier attempt is taken up again."""
        problems = access_problems(access, today=today)
        if problems:
            raise ZenodoInvalid("The access settings are not valid:", problems)
        self._json(
            "POST",
            self._draft_path(record_id),
            expected=(201,),
            doing=f"opening record {record_id} for editing",
        )
        self.set_access(record_id=record_id, access=access, today=today)
        return self.publish(record_id=record_id)

    def publish(self, *, record_id: str) -> ZenodoRecord:
        """Publish the draft, after checking its files are all committed and within Zenodo's limits."""
        listing = self._files_listing(record_id)
        files = [RemoteFile.from_json(entry) for entry in listing.get("entries") or []]
        problems = [
            Problem(f"files.{file.key}", f"“{file.key}” was never committed; its upload did not finish.")
            for file in files
            if not file.committed
        ]
        if listing.get("enabled", True) and not files:
            problems.append(Problem("files", "The draft has no files; upload them before publishing."))
        problems += limit_problems(count=len(files), total_bytes=sum(file.size or 0 for file in files))
        if problems:
            raise ZenodoInvalid(f"Draft {record_id} cannot be published yet:", problems)
        data = self._json(
            "POST",
            f"{self._draft_path(record_id)}/actions/publish",
            expected=(200, 202),
            doing=f"publishing draft {record_id}",
        )
        return ZenodoRecord.from_json(data)

    def new_version(
        self,
        *,
        record_id: str,
        metadata: RecordMetadata,
        access: Access,
        import_files: bool = False,
        today: date | None = None,
    ) -> ZenodoRecord:
        """Start a new version of a published record and give it this metadata and access.

        Zenodo's new draft has no files (and no publication date) until told otherwise;
        ``import_files`` links the previous version's files, which ``replace_file`` or
        ``delete_draft_file`` can then change.
        """
        body = record_json(metadata, access, today=today)
        data = self._json(
            "POST",
            f"/api/records/{quote(record_id, safe='')}/versions",
            expected=(201,),
            doing=f"starting a new version of record {record_id}",
        )
        draft_id = ZenodoRecord.from_json(data).id
        if import_files:
            self._json(
                "POST",
                f"{self._draft_path(draft_id)}/actions/files-import",
                expected=(201,),
                doing=f"importing the previous version's files into draft {draft_id}",
            )
        data = self._json(
            "PUT", self._draft_path(draft_id), body, expected=(200,), doing=f"updating draft {draft_id}"
        )
        return ZenodoRecord.from_json(data)

    # --- files ----------------------------------------------------------------------------------

    def draft_files(self, *, record_id: str) -> list[RemoteFile]:
        return [RemoteFile.from_json(entry) for entry in self._files_listing(record_id).get("entries") or []]

    def upload_files(self, *, record_id: str, files: Sequence[FileToUpload]) -> list[RemoteFile]:
        """Upload several files; the whole set is checked (disk, names, limits) before the first byte."""
        problems = file_problems(files)
        if problems:
            raise ZenodoInvalid("These files cannot be uploaded:", problems)
        existing = self.draft_files(record_id=record_id)
        problems = file_problems(
            files,
            existing_keys=[file.key for file in existing],
            existing_bytes=sum(file.size or 0 for file in existing),
        )
        if problems:
            raise ZenodoInvalid(f"These files do not fit on draft {record_id}:", problems)
        return [self._upload(record_id, file) for file in files]

    def upload_file(self, *, record_id: str, file: FileToUpload) -> RemoteFile:
        """Initiate, stream and commit one file, then compare Zenodo's MD5 with the bytes sent."""
        problems = file_problems([file])
        if problems:
            raise ZenodoInvalid(f"“{file.name}” cannot be uploaded:", problems)
        return self._upload(record_id, file)

    def replace_file(self, *, record_id: str, file: FileToUpload) -> RemoteFile:
        """Swap a file of the draft (typically one imported from the previous version) for a new one."""
        problems = file_problems([file])
        if problems:
            raise ZenodoInvalid(f"“{file.name}” cannot be uploaded:", problems)
        self.delete_draft_file(record_id=record_id, key=file.name)
        return self._upload(record_id, file)

    def delete_draft_file(self, *, record_id: str, key: str) -> None:
        self._request(
            "DELETE",
            self._file_path(record_id, key),
            expected=(204,),
            doing=f"removing “{key}” from the draft",
        )

    def _upload(self, record_id: str, file: FileToUpload) -> RemoteFile:
        key = file.name
        self._json(
            "POST",
            f"{self._draft_path(record_id)}/files",
            [{"key": key}],
            expected=(201,),
            doing=f"starting the upload of “{key}”",
        )
        with file.path.open("rb") as handle:
            reader = _HashingReader(handle, file.size, sha256=bool(file.sha256))
            self._request(
                "PUT",
                f"{self._file_path(record_id, key)}/content",
                stream=reader,
                length=file.size,
                expected=(200,),
                doing=f"uploading “{key}”",
            )
        sent_md5 = reader.md5.hexdigest()
        md5_changed = bool(file.md5) and sent_md5 != file.md5
        sha256_changed = reader.sha256 is not None and reader.sha256.hexdigest() != file.sha256
        if md5_changed or sha256_changed:
            raise ZenodoChecksumError(
                f"“{key}” changed on disk since it was scanned: the bytes sent do not match its recorded "
                f"checksum. {self._discard(record_id, key)} Scan the dataset again before uploading."
            )
        data = self._json(
            "POST",
            f"{self._file_path(record_id, key)}/commit",
            expected=(200, 201),
            doing=f"committing “{key}”",
        )
        remote = RemoteFile.from_json(data)
        if remote.checksum != f"md5:{sent_md5}":
            raise ZenodoChecksumError(
                f"Zenodo stored “{key}” with checksum {remote.checksum or '(none)'} but the bytes sent have "
                f"md5:{sent_md5}, so the upload was corrupted on the way. {self._discard(record_id, key)} "
                "Upload it again."
            )
        return remote

    def _discard(self, record_id: str, key: str) -> str:
        """Remove a bad upload so it cannot be published; say what happened either way."""
        try:
            self.delete_draft_file(record_id=record_id, key=key)
        except ZenodoError as exc:
            return f"Removing it from the draft failed too ({exc.message}); delete it before publishing."
        return "It was removed from the draft."

    # --- HTTP -----------------------------------------------------------------------------------

    def _draft_path(self, record_id: str) -> str:
        return f"/api/records/{quote(record_id, safe='')}/draft"

    def _file_path(self, record_id: str, key: str) -> str:
        return f"{self._draft_path(record_id)}/files/{quote(key, safe='')}"

    def _files_listing(self, record_id: str) -> dict[str, Any]:
        return self._json(
            "GET",
            f"{self._draft_path(record_id)}/files",
            expected=(200,),
            doing=f"listing the files of draft {record_id}",
        )

    def _json(
        self,
        method: str,
        path: str,
        body: object = None,
        *,
        expected: tuple[int, ...],
        doing: str,
    ) -> dict[str, Any]:
        raw = self._request(method, path, payload=body, expected=expected, doing=doing)
        try:
            data = json.loads(raw) if raw else {}
        except ValueError:
            raise ZenodoError(f"Zenodo's answer while {doing} was not JSON.") from None
        if not isinstance(data, dict):
            raise ZenodoError(f"Zenodo's answer while {doing} was not a JSON object.")
        return data

    def _request(
        self,
        method: str,
        path: str,
        *,
        payload: object = None,
        stream: _HashingReader | None = None,
        length: int = 0,
        expected: tuple[int, ...],
        doing: str,
    ) -> bytes:
        headers = {
            "Authorization": f"Bearer {self._token}",
            "Accept": "application/json",
            "User-Agent": "FAIRlight",
        }
        body: bytes | _HashingReader | None = None
        if stream is not None:
            headers["Content-Type"] = "application/octet-stream"
            headers["Content-Length"] = str(length)
            body = stream
        elif payload is not None:
            headers["Content-Type"] = "application/json"
            body = json.dumps(payload).encode()
        connection = self._connection()
        try:
            connection.request(method, self._prefix + path, body=body, headers=headers)
            response = connection.getresponse()
            status, reason, raw = response.status, response.reason, response.read()
        except TimeoutError:
            raise ZenodoError(
                f"Zenodo at {self.base_url} did not answer within {self.timeout:g} s while {doing}."
            ) from None
        except (OSError, http.client.HTTPException) as exc:
            raise ZenodoError(f"Could not reach Zenodo at {self.base_url} while {doing}: {exc}.") from None
        finally:
            connection.close()
        if status not in expected:
            raise self._refusal(status, reason, raw, doing)
        return raw

    def _connection(self) -> http.client.HTTPConnection:
        if self._scheme == "https":
            return http.client.HTTPSConnection(
                self._host,
                self._port,
                timeout=self.timeout,
                context=ssl.create_default_context(),
                blocksize=UPLOAD_BLOCK_BYTES,
            )
        return http.client.HTTPConnection(
            self._host, self._port, timeout=self.timeout, blocksize=UPLOAD_BLOCK_BYTES
        )

    def _refusal(self, status: int, reason: str, raw: bytes, doing: str) -> ZenodoError:
        message, errors = _server_message(raw)
        if status == 401:
            text = (
                f"Zenodo at {self.base_url} refused the token while {doing}: {message or reason}. "
                "Check FAIRLIGHT_ZENODO_TOKEN (sandbox and zenodo.org tokens are not interchangeable)."
            )
        elif status >= 500:
            text = (
                f"Zenodo at {self.base_url} failed with a server error ({status} {reason}) while {doing}"
                f"{': ' + message if message else ''}. This is on Zenodo's side; try again later."
            )
        else:
            text = f"Zenodo refused {doing} ({status} {reason}): {message or 'no reason given'}."
        return ZenodoError(text, status=status, field_errors=errors)


def _server_message(raw: bytes) -> tuple[str, tuple[FieldError, ...]]:
    """InvenioRDM's error body is ``{"status", "message", "errors": [{"field", "messages"}]}``."""
    try:
        data = json.loads(raw)
    except ValueError:
        text = raw.decode("utf-8", "replace").strip()
        return (text[:200] if text and not text.startswith("<") else ""), ()
    if not isinstance(data, dict):
        return "", ()
    return str(data.get("message") or ""), _field_errors(data.get("errors"))


def client_from_settings(*, timeout: float = DEFAULT_TIMEOUT_SECONDS) -> ZenodoClient:
    """The client configured by FAIRLIGHT_ZENODO_URL and FAIRLIGHT_ZENODO_TOKEN."""
    # Imported here so the package stays usable without Django configured.
    from django.conf import settings

    return ZenodoClient(
        base_url=settings.FAIRLIGHT_ZENODO_URL, token=settings.FAIRLIGHT_ZENODO_TOKEN, timeout=timeout
    )
