"""Containment of paths on facility storage.

Every path a user gives is relative to a storage root. It is refused when it is
absolute, climbs with ``..``, or resolves (symlinks followed) outside the root,
so nobody can reach files the facility did not allow-list.
"""

from __future__ import annotations

from pathlib import Path, PurePosixPath

from django.conf import settings


class PathOutsideRoot(ValueError):
    """A path that would leave its storage root; the message says why, in plain words."""


def resolve_within(root: Path, relative: str) -> Path:
    """Return the real path of ``relative`` inside ``root`` or raise PathOutsideRoot."""
    if "\x00" in relative:
        raise PathOutsideRoot("The path contains a NUL character.")
    cleaned = relative.strip()
    candidate = PurePosixPath(cleaned)
    if candidate.is_absolute():
        raise PathOutsideRoot(f"{cleaned!r} is an absolute path; give a path relative to the storage root.")
    if ".." in candidate.parts:
        raise PathOutsideRoot(f"{cleaned!r} uses '..' to leave the storage root; it is not allowed.")
    real_root = root.resolve()
    resolved = (real_root / candidate).resolve()
    if not resolved.is_relative_to(real_root):
        raise PathOutsideRoot(
            f"{cleaned!r} leads outside the storage root through a symbolic link (it resolves to {resolved})."
        )
    return resolved


def allowed_root_containing(path: Path) -> Path | None:
    """The configured FAIRLIGHT_STORAGE_ROOTS entry that contains ``path``, if any."""
    real = path.resolve()
    for root in settings.FAIRLIGHT_STORAGE_ROOTS:
        if real.is_relative_to(root.path):
            return root.path
    return None
