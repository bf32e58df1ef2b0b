"""The interface every archive module implements, and the report it returns.

A target (repositories/bia, later idr and zenodo) says what its archive accepts as
`RepositoryRules`, checks a submission against them (`preflight`), writes the archive's
files into a folder (`build_package`) and, where the archive has an API, submits. The
rules every archive shares live in repositories/preflight.py; a target adds its own.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from pathlib import Path
from typing import Any

from django.core.exceptions import ValidationError
from django.utils import timezone

from repositories.models import Submission


class Level(StrEnum):
    ERROR = "error"  # blocks packaging
    WARNING = "warning"  # worth fixing; the archive accepts it
    OK = "ok"  # a rule that passed, listed so people see what was checked


@dataclass(frozen=True)
class Finding:
    level: Level
    code: str  # stable identifier of the rule, e.g. "format_not_accepted"
    message: str  # what is wrong (or right), in plain words
    fix: str = ""  # where and how to fix it
    fix_url: str = ""  # the page where it is fixed, when there is one

    def to_json(self) -> dict[str, str]:
        return {
            "level": self.level.value,
            "code": self.code,
            "message": self.message,
            "fix": self.fix,
            "fix_url": self.fix_url,
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Finding:
        return cls(
            level=Level(data["level"]),
            code=str(data["code"]),
            message=str(data["message"]),
            fix=str(data.get("fix", "")),
            fix_url=str(data.get("fix_url", "")),
        )


@dataclass
class PreflightReport:
    target: str
    findings: list[Finding] = field(default_factory=list)
    checked_at: datetime = field(default_factory=timezone.now)

    @property
    def errors(self) -> list[Finding]:
        return [f for f in self.findings if f.level == Level.ERROR]

    @property
    def warnings(self) -> list[Finding]:
        return [f for f in self.findings if f.level == Level.WARNING]

    @property
    def passed(self) -> list[Finding]:
        return [f for f in self.findings if f.level == Level.OK]

    @property
    def ok(self) -> bool:
        """Nothing blocks packaging."""
        return not self.errors

    def codes(self, level: Level = Level.ERROR) -> set[str]:
        return {f.code for f in self.findings if f.level == level}

    def to_json(self) -> dict[str, Any]:
        return {
            "target": self.target,
            "checked_at": self.checked_at.isoformat(),
            "findings": [f.to_json() for f in self.findings],
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> PreflightReport | None:
        if not data:
            return None
        return cls(
            target=str(data["target"]),
            findings=[Finding.from_json(item) for item in data.get("findings", [])],
            checked_at=datetime.fromisoformat(data["checked_at"]),
        )


@dataclass(frozen=True)
class FilenameRules:
    """What an archive says about file and folder names; each problem has its level."""

    spaces: Level = Level.WARNING
    non_ascii: Level = Level.ERROR
    # Characters that break upload tools or are forbidden on common file systems.
    forbidden_characters: str = '\\:*?"<>|'
    max_path_length: int = 1024


@dataclass(frozen=True)
class RepositoryRules:
    """What an archive accepts, as numbers and switches the shared pre-flight rules read."""

    # Name of the matching FormatAdvice flag in metadata/advice.py (bia, idr, zenodo).
    format_flag: str
    licences: tuple[str, ...]  # SPDX identifiers the archive publishes under
    max_embargo_days: int  # how far ahead the release date may lie
    max_total_bytes: int | None = None
    max_files: int | None = None
    filenames: FilenameRules = FilenameRules()
    # What the archive's accessions look like, as a regular expression and an example.
    accession_pattern: str = r"\S+"
    accession_example: str = ""


class SubmitNotSupported(ValidationError):
    pass


class RepositoryTarget(ABC):
    """One archive. Implementations are stateless; the registry holds one instance each."""

    key: str
    label: str
    # The name inside a sentence, e.g. "the BioImage Archive" (findings start it with a capital).
    label_in_text: str
    rules: RepositoryRules
    # True when FAIRlight can deposit through the archive's API (see submit()).
    can_submit: bool = False
    # True when FAIRlight can change the release date of a deposited record (see update_release()).
    can_update_release: bool = False

    @abstractmethod
    def preflight(self, submission: Submission) -> PreflightReport:
        """Every finding, in plain words, before anything is built."""

    @abstractmethod
    def build_package(self, submission: Submission, dest: Path) -> Path:
        """Write the archive's files into the empty folder ``dest`` and return it.

        Data files are referenced where they are stored, never copied; the caller moves
        the folder into place only when this returns, so a failure leaves no package.
        """

    def next_steps(self, submission: Submission) -> list[str]:
        """What to do with the package, in order, for the submission page."""
        return []

    def submit(self, submission: Submission) -> str:
        """Deposit the package through the archive's API; returns the record id."""
        raise SubmitNotSupported(
            f"FAIRlight cannot deposit to {self.label_in_text} directly; "
            "follow the next steps on the submission page."
        )

    def update_release(self, submission: Submission) -> str:
        """Give the deposited record the submission's release date through the archive's API and
        record what the archive now holds; returns the record id."""
        raise SubmitNotSupported(
            f"FAIRlight cannot change the release date at {self.label_in_text}; change it there too."
        )

    def confirm_release(self, submission: Submission) -> bool:
        """Once the archive's release date has come: if the archive shows the files to everyone,
        record that (the submission becomes public) and return True; False while it does not."""
        raise SubmitNotSupported(f"FAIRlight cannot read the access of records at {self.label_in_text}.")
