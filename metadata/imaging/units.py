"""Walking a dataset folder into scan units: one per file, one per OME-Zarr folder."""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from metadata.imaging.formats import is_ome_zarr_dir


@dataclass(frozen=True)
class ScanUnit:
    relative_path: str
    is_dir: bool
    size_bytes: int
    mtime: float
    file_count: int
    outside_root: bool = False


_ESCAPED_BYTE = re.compile(r"\\x([0-9a-f]{2})")


def shown_path(relative: str) -> str:
    """A relative path as stored and shown. Linux file names are bytes; a byte that is not UTF-8
    (a name written by an old or foreign system) becomes the text \\xNN, since databases and pages
    take only valid text."""
    return relative.encode("utf-8", "surrogateescape").decode("utf-8", "backslashreplace")


def undecodable_original(root: Path, shown: str) -> Path | None:
    """The file whose name ``shown_path`` had to escape, if ``shown`` stands for one that exists."""
    raw = _ESCAPED_BYTE.sub(lambda match: chr(0xDC00 + int(match[1], 16)), shown)
    if raw == shown:
        return None
    candidate = root / raw
    return candidate if os.path.lexists(candidate) else None


def tree_totals(path: Path) -> tuple[int, float, int]:
    """Bytes, newest modification time and number of files below a folder (an OME-Zarr image)."""
    size, mtime, count = 0, 0.0, 0
    for folder, _, files in os.walk(path):
        for name in files:
            stat = os.stat(os.path.join(folder, name))
            size += stat.st_size
            mtime = max(mtime, stat.st_mtime)
            count += 1
    return size, mtime, count


def walk_units(root: Path) -> Iterator[ScanUnit]:
    """Every scan unit below ``root``, in a stable order.

    Symbolic links are not followed into folders; a linked file that resolves
    outside ``root`` is reported as such instead of being read.
    """
    real_root = root.resolve()
    stack = [real_root]
    # An escaped name may equal a real one (a file literally named "caf\\xe9.tif"); one row each.
    seen: set[str] = set()
    while stack:
        folder = stack.pop()
        try:
            entries = sorted(os.scandir(folder), key=lambda e: e.name)
        except OSError:
            continue
        subfolders = []
        for entry in entries:
            path = Path(entry.path)
            relative = shown_path(path.relative_to(real_root).as_posix())
            if relative in seen:
                continue
            seen.add(relative)
            if entry.is_dir(follow_symlinks=False):
                if is_ome_zarr_dir(path):
                    size, mtime, count = tree_totals(path)
                    yield ScanUnit(relative, True, size, mtime, count)
                else:
                    subfolders.append(path)
            elif entry.is_file():
                outside = entry.is_symlink() and not path.resolve().is_relative_to(real_root)
                stat = entry.stat(follow_symlinks=not outside)
                yield ScanUnit(relative, False, stat.st_size, stat.st_mtime, 1, outside_root=outside)
        stack.extend(reversed(subfolders))
