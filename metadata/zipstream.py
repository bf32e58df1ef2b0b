"""ZIP archives streamed in pieces while they are written, for downloads of any size (a shared
OME-Zarr folder, a submission package): never whole in memory or on disk, ZIP64 where needed."""

from __future__ import annotations

import io
import zipfile
from collections.abc import Iterable, Iterator
from pathlib import Path

# How much of a file is read, compressed and handed on at a time.
CHUNK = 1024 * 1024


class _Sink(io.RawIOBase):
    """A write-only stream whose bytes are taken out as they arrive."""

    def __init__(self) -> None:
        self.buffer = bytearray()

    def writable(self) -> bool:
        return True

    def write(self, data: bytes | bytearray | memoryview) -> int:  # type: ignore[override]
        self.buffer += data
        return len(data)

    def take(self) -> bytes:
        chunk = bytes(self.buffer)
        self.buffer.clear()
        return chunk


def zip_chunks(members: Iterable[tuple[Path, str]], *, compression: int) -> Iterator[bytes]:
    """The ZIP of these (file, name in the archive) pairs, in pieces of about CHUNK bytes."""
    sink = _Sink()
    with zipfile.ZipFile(sink, mode="w", compression=compression, allowZip64=True) as archive:
        for path, arcname in members:
            with path.open("rb") as source, archive.open(arcname, "w", force_zip64=True) as dest:
                while chunk := source.read(CHUNK):
                    dest.write(chunk)
                    yield sink.take()
            yield sink.take()
    yield sink.take()
