"""What can go wrong talking to Zenodo, each with a message a person can act on."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass


@dataclass(frozen=True)
class Problem:
    """One reason FAIRlight refuses to send something, tied to the InvenioRDM field it concerns."""

    field: str
    message: str

    def __str__(self) -> str:
        return f"{self.field}: {self.message}"


@dataclass(frozen=True)
class FieldError:
    """One entry of an InvenioRDM error body: ``{"field": ..., "messages": [...]}``."""

    field: str
    messages: tuple[str, ...]

    def __str__(self) -> str:
        return f"{self.field}: {' '.join(self.messages)}"


class ZenodoError(Exception):
    """Zenodo refused a request or could not be reached.

    ``status`` is the HTTP status (None when no answer came back) and ``field_errors`` the
    per-field messages InvenioRDM sent with a validation error.
    """

    def __init__(self, message: str, *, status: int | None = None, field_errors: Sequence[FieldError] = ()):
        self.message = message
        self.status = status
        self.field_errors = tuple(field_errors)
        details = "".join(f"\n- {error}" for error in self.field_errors)
        super().__init__(message + details)


class ZenodoConfigurationError(ZenodoError):
    """The client cannot be used as configured (no token, an unusable base URL)."""


class ZenodoInvalid(ZenodoError):
    """FAIRlight refused before sending anything: the record, its access or its files break a rule."""

    def __init__(self, summary: str, problems: Sequence[Problem]):
        self.problems = tuple(problems)
        super().__init__(summary + "".join(f"\n- {problem}" for problem in self.problems))


class ZenodoChecksumError(ZenodoError):
    """The bytes Zenodo stored are not the bytes on disk (or the file changed since it was scanned)."""
