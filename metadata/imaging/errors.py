from __future__ import annotations

from enum import StrEnum


class ErrorCode(StrEnum):
    TRUNCATED = "truncated"
    CORRUPT = "corrupt"
    UNREADABLE = "unreadable"
    PERMISSION_DENIED = "permission_denied"
    VANISHED = "vanished"
    READER_NOT_INSTALLED = "reader_not_installed"


class InspectionError(Exception):
    """A file that could not be inspected; ``str()`` is the message shown to people."""

    def __init__(self, code: ErrorCode, message: str, *, format: str | None = None) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.format = format  # what the file was recognised as, when it got that far
