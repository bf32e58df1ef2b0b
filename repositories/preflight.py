"""The pre-flight rules every archive shares, each a function returning findings.

A target runs `shared_findings` with its own `RepositoryRules` and adds what only its archive
asks for. Rules read the database and stat the files (no data is read), so a check of a large
dataset costs one walk of its folder.
"""

from __future__ import annotations

import datetime
from collections import Counter
from collections.abc import Iterable
from zoneinfo import ZoneInfo

from django.urls import reverse
from django.utils import timezone
from django.utils.text import get_text_list

from metadata.advice import ADVICE, Verdict
from metadata.imaging import walk_units
from metadata.imaging.formats import FORMAT_LABELS, Format
from metadata.models import REMBI_CLASS_CHOICES, Dataset, ImageFile, RembiRecord, ScanRun
from metadata.rembi import CORE_CLASSES, record_for
from metadata.services import dataset_folder
from metadata.validation import Level as RembiLevel
from metadata.validation import validate_record
from projects.models import Project
from projects.storage import PathOutsideRoot
from repositories.base import Finding, Level, RepositoryRules
from repositories.models import State, Submission

# Findings that list files name at most this many; the dataset page lists them all.
EXAMPLES = 3
# States in which the data are not yet with the archive, so a release date must still lie ahead.
NOT_YET_SUBMITTED = (State.DRAFT, State.CHECKED, State.PACKAGED)


def _examples(paths: list[str]) -> str:
    shown = ", ".join(paths[:EXAMPLES])
    return shown + (f" and {len(paths) - EXAMPLES} more" if len(paths) > EXAMPLES else "")


def _plural(count: int, word: str) -> str:
    return f"{count} {word}{'' if count == 1 else 's'}"


def _cap(text: str) -> str:
    """A sentence starting with a repository's name: "the BioImage Archive" → "The BioImage Archive"."""
    return text[:1].upper() + text[1:]


def _module_label(class_name: str) -> str:
    return str(dict(REMBI_CLASS_CHOICES)[class_name])


def today_in(project: Project) -> datetime.date:
    """Today's date where the project is: release dates are dates in its time zone."""
    return timezone.localdate(timezone=ZoneInfo(project.time_zone))


def project_today(submission: Submission) -> datetime.date:
    return today_in(submission.project)


def rule_datasets(datasets: list[Dataset]) -> list[Finding]:
    if not datasets:
        return [Finding(Level.ERROR, "no_datasets", "The submission contains no dataset.")]
    findings = []
    active = set(
        ScanRun.objects.filter(
            dataset__in=datasets, status__in=[ScanRun.Status.PLANNING, ScanRun.Status.RUNNING]
        ).values_list("dataset_id", flat=True)
    )
    for dataset in datasets:
        if dataset.pk in active:
            findings.append(
                Finding(
                    Level.ERROR,
                    "scan_running",
                    f"Dataset “{dataset}” is being scanned; its file list is not complete yet.",
                    "Wait until the scan has finished, then check again.",
                    dataset.get_absolute_url(),
                )
            )
        elif dataset.status != Dataset.Status.SCANNED or dataset.scanned_at is None:
            findings.append(
                Finding(
                    Level.ERROR,
                    "dataset_not_scanned",
                    f"Dataset “{dataset}” has not been scanned completely ({dataset.get_status_display()}).",
                    "Scan it from its page; checksums and formats come from the scan.",
                    dataset.get_absolute_url(),
                )
            )
    if not findings:
        findings.append(
            Finding(
                Level.OK, "datasets_scanned", f"{_plural(len(datasets), 'dataset')}, all scanned completely."
            )
        )
    return findings


def rule_scan_errors(datasets: list[Dataset]) -> list[Finding]:
    findings = []
    for dataset in datasets:
        broken = list(
            dataset.files.exclude(error_code="")
            .order_by("relative_path")
            .values_list("relative_path", flat=True)
        )
        if broken:
            findings.append(
                Finding(
                    Level.ERROR,
                    "file_scan_error",
                    f"{_plural(len(broken), 'file')} of “{dataset}” could not be read by the scan: "
                    f"{_examples(broken)}.",
                    "Replace or remove the unreadable files and scan again; the dataset page lists "
                    "them with the reason.",
                    f"{dataset.get_absolute_url()}?with_errors=on",
                )
            )
    if not findings:
        findings.append(Finding(Level.OK, "no_scan_errors", "Every file could be read."))
    return findings


def rule_checksums(datasets: list[Dataset]) -> list[Finding]:
    """Checksums exist and still describe the files: size and modification time are unchanged."""
    findings = []
    for dataset in datasets:
        url = dataset.get_absolute_url()
        rescan = "Scan the dataset again so that the checksums describe the files as they are."
        missing_sums = list(
            dataset.files.filter(sha256="", error_code="")
            .order_by("relative_path")
            .values_list("relative_path", flat=True)
        )
        if missing_sums:
            findings.append(
                Finding(
                    Level.ERROR,
                    "checksum_missing",
                    f"{_plural(len(missing_sums), 'file')} of “{dataset}” "
                    f"{'has' if len(missing_sums) == 1 else 'have'} no checksum: "
                    f"{_examples(missing_sums)}.",
                    rescan,
                    url,
                )
            )
        try:
            folder = dataset_folder(dataset)
        except PathOutsideRoot as exc:
            findings.append(Finding(Level.ERROR, "folder_unreachable", f"“{dataset}”: {exc}", "", url))
            continue
        if not folder.is_dir():
            findings.append(
                Finding(
                    Level.ERROR,
                    "folder_unreachable",
                    f"The folder of “{dataset}” is not there any more.",
                    "Ask facility IT whether the storage is mounted.",
                    url,
                )
            )
            continue
        on_disk = {unit.relative_path: (unit.size_bytes, unit.mtime) for unit in walk_units(folder)}
        stored = {
            path: (size, mtime)
            for path, size, mtime in dataset.files.values_list(
                "relative_path", "size_bytes", "mtime"
            ).iterator(chunk_size=10_000)
        }
        changed = sorted(p for p, stat in stored.items() if p in on_disk and on_disk[p] != stat)
        gone = sorted(stored.keys() - on_disk.keys())
        new = sorted(on_disk.keys() - stored.keys())
        for code, paths, what in (
            ("file_changed", changed, "changed since the scan"),
            ("file_missing", gone, "gone since the scan"),
            ("file_new", new, "new since the scan and not described"),
        ):
            if paths:
                findings.append(
                    Finding(
                        Level.ERROR,
                        code,
                        f"{_plural(len(paths), 'file')} of “{dataset}” {'is' if len(paths) == 1 else 'are'} "
                        f"{what}: {_examples(paths)}.",
                        rescan,
                        url,
                    )
                )
    if not findings:
        findings.append(
            Finding(
                Level.OK,
                "checksums_current",
                "Every file has a SHA-256 checksum that matches it as it is now.",
            )
        )
    return findings


def _records_in_use(datasets: list[Dataset]) -> list[tuple[Dataset, str, RembiRecord | None]]:
    """(dataset, module, record) for every core module; the shared Study only once."""
    rows: list[tuple[Dataset, str, RembiRecord | None]] = []
    for index, dataset in enumerate(datasets):
        for class_name in CORE_CLASSES:
            if class_name == "Study" and index > 0:
                continue
            rows.append((dataset, class_name, record_for(dataset, class_name)))
    return rows


def rule_rembi(datasets: list[Dataset]) -> list[Finding]:
    """Required REMBI modules present and valid; a missing module lists each required field."""
    findings = []
    seen: set[int] = set()
    for dataset, class_name, record in _records_in_use(datasets):
        label = _module_label(class_name)
        url = reverse("metadata:rembi_edit", args=[dataset.pk, class_name])
        if record is None:
            for problem in validate_record({}, class_name):
                if problem.level == RembiLevel.ERROR:
                    findings.append(
                        Finding(
                            Level.ERROR,
                            "rembi_missing",
                            f"{label} of “{dataset}” is not described yet: {problem.message}",
                            f"Fill in the {label} module of the dataset's REMBI description.",
                            url,
                        )
                    )
            continue
        if record.pk in seen:
            continue
        seen.add(record.pk)
        problems = validate_record(record.data, class_name)
        for problem in problems:
            if problem.level == RembiLevel.ERROR:
                findings.append(
                    Finding(
                        Level.ERROR,
                        "rembi_invalid",
                        f"{label} “{record.title}”: {problem.message}",
                        f"Correct the {label} record.",
                        url,
                    )
                )
        recommended = [p.path.replace("_", " ") for p in problems if p.level == RembiLevel.RECOMMENDED]
        if recommended:
            findings.append(
                Finding(
                    Level.WARNING,
                    "rembi_recommended",
                    f"{label} “{record.title}”: recommended fields are empty: {', '.join(recommended)}.",
                    "Archives accept the record without them; people reusing the data will miss them.",
                    url,
                )
            )
    if not any(f.level == Level.ERROR for f in findings):
        findings.append(Finding(Level.OK, "rembi_valid", "The REMBI description is complete and valid."))
    return findings


def rule_formats(datasets: list[Dataset], rules: RepositoryRules, label: str) -> list[Finding]:
    findings = []
    counts: Counter[str] = Counter()
    for dataset in datasets:
        for fmt, row in dataset.format_summary.items():
            counts[fmt] += int(row.get("count", 0))
    for fmt, count in sorted(counts.items()):
        if fmt not in Format._value2member_map_:
            continue
        advice = ADVICE[Format(fmt)]
        name = FORMAT_LABELS[Format(fmt)]
        if not getattr(advice, rules.format_flag):
            findings.append(
                Finding(
                    Level.ERROR,
                    "format_not_accepted",
                    f"{_cap(label)} does not accept {name} files ({_plural(count, 'file')}).",
                    advice.advice,
                )
            )
        elif advice.verdict in (Verdict.PROPRIETARY, Verdict.LOSSY):
            findings.append(
                Finding(Level.WARNING, "format_advice", f"{name} ({_plural(count, 'file')}): {advice.advice}")
            )
    if not any(f.level == Level.ERROR for f in findings):
        names = get_text_list(
            [FORMAT_LABELS[Format(f)] for f in sorted(counts) if f in Format._value2member_map_], "and"
        )
        findings.append(
            Finding(Level.OK, "formats_accepted", f"{_cap(label)} accepts every format present: {names}.")
        )
    return findings


def rule_release_date(submission: Submission, rules: RepositoryRules, label: str) -> list[Finding]:
    release = submission.release_date
    fix = "Set the release date on this page (managers and owners)."
    if release is None:
        return [Finding(Level.ERROR, "release_date_missing", "The submission has no release date.", fix)]
    today = project_today(submission)
    zone = submission.project.time_zone
    limit = today + datetime.timedelta(days=rules.max_embargo_days)
    findings = []
    if release < today and submission.state in NOT_YET_SUBMITTED:
        findings.append(
            Finding(
                Level.ERROR,
                "release_date_past",
                f"The release date {release:%Y-%m-%d} is in the past (today is {today:%Y-%m-%d} in {zone}).",
                "Choose today to publish on acceptance, or a later date to keep the data private until then.",
            )
        )
    elif release > limit:
        findings.append(
            Finding(
                Level.ERROR,
                "release_date_too_late",
                f"{_cap(label)} keeps data private for at most {rules.max_embargo_days} days; "
                f"{release:%Y-%m-%d} is later than {limit:%Y-%m-%d}.",
                fix,
            )
        )
    study = RembiRecord.objects.filter(project=submission.project, class_name="Study").first()
    described = study.data.get("release_date") if study is not None else None
    if described and described != release.isoformat():
        findings.append(
            Finding(
                Level.WARNING,
                "release_date_differs",
                f"The Study says the data are released on {described}; this submission releases them on "
                f"{release:%Y-%m-%d}, which the package uses.",
                "Make the two dates agree so that the description and the archive say the same.",
            )
        )
    if not any(f.level == Level.ERROR for f in findings):
        when = "on acceptance" if release <= today else f"on {release:%Y-%m-%d}; private until then"
        findings.append(Finding(Level.OK, "release_date_ok", f"The data become public {when}."))
    return findings


def rule_licence(submission: Submission, rules: RepositoryRules, label: str) -> list[Finding]:
    study = RembiRecord.objects.filter(project=submission.project, class_name="Study").first()
    licence = study.data.get("licence") if study is not None else None
    if not licence:
        return []  # a missing licence is reported with the Study's other required fields
    if licence not in rules.licences:
        return [
            Finding(
                Level.ERROR,
                "licence_not_accepted",
                f"{_cap(label)} publishes data under {get_text_list(list(rules.licences), 'or')}, "
                f"not {licence}.",
                "Choose an accepted licence in the Study, or a repository that takes this one.",
            )
        ]
    return [Finding(Level.OK, "licence_accepted", f"{_cap(label)} publishes data under {licence}.")]


def _name_problems(path: str, rules: RepositoryRules) -> Iterable[tuple[str, Level, str]]:
    names = rules.filenames
    if " " in path:
        yield "filename_spaces", names.spaces, "contain spaces"
    if not path.isascii():
        yield "filename_non_ascii", names.non_ascii, "contain characters outside ASCII (accents, symbols)"
    if any(char in names.forbidden_characters for char in path) or any(ord(char) < 32 for char in path):
        yield (
            "filename_characters",
            Level.ERROR,
            f"contain one of {names.forbidden_characters} or control characters",
        )
    if any(part in ("", ".", "..") or part != part.strip() for part in path.split("/")):
        yield (
            "filename_segments",
            Level.ERROR,
            "have empty, “.” or “..” parts, or parts that start or end with blanks",
        )
    if any(part.startswith(".") for part in path.split("/")):
        yield "filename_hidden", Level.WARNING, "start with a dot (hidden files)"
    if len(path) > names.max_path_length:
        yield "filename_length", Level.ERROR, f"are longer than {names.max_path_length} characters"


def rule_filenames(datasets: list[Dataset], rules: RepositoryRules, label: str) -> list[Finding]:
    problems: dict[tuple[str, Level, str], list[str]] = {}
    paths = ImageFile.objects.filter(dataset__in=datasets).order_by("relative_path")
    for path in paths.values_list("relative_path", flat=True).iterator(chunk_size=10_000):
        for problem in _name_problems(path, rules):
            problems.setdefault(problem, []).append(path)
    findings = [
        Finding(
            level,
            code,
            f"File names that {what} ({len(paths_)}): {_examples(paths_)}.",
            f"Rename them on the storage and scan again; {label} "
            + (
                "refuses such names."
                if level == Level.ERROR
                else "accepts them, but they cause trouble in tools."
            ),
        )
        for (code, level, what), paths_ in problems.items()
    ]
    if not any(f.level == Level.ERROR for f in findings):
        findings.append(Finding(Level.OK, "filenames_ok", f"Every file name is acceptable to {label}."))
    return findings


def _size_text(count: int) -> str:
    return f"{count / 1000**3:.1f} GB" if count >= 1000**3 else f"{count / 1000**2:.1f} MB"


def rule_limits(datasets: list[Dataset], rules: RepositoryRules, label: str) -> list[Finding]:
    total = sum(d.total_bytes for d in datasets)
    files = sum(d.file_count for d in datasets)
    findings = []
    if rules.max_total_bytes is not None and total > rules.max_total_bytes:
        findings.append(
            Finding(
                Level.ERROR,
                "size_limit",
                f"The datasets hold {_size_text(total)}; "
                f"{label} takes at most {_size_text(rules.max_total_bytes)} "
                "per record.",
                "Split the data over several submissions, or choose an archive without this limit.",
            )
        )
    if rules.max_files is not None and files > rules.max_files:
        findings.append(
            Finding(
                Level.ERROR,
                "file_count_limit",
                f"The datasets hold {_plural(files, 'file')}; "
                f"{label} takes at most {rules.max_files} per record.",
                "Zip folders of related files, or split the data over several submissions.",
            )
        )
    if not findings:
        findings.append(
            Finding(
                Level.OK,
                "limits_ok",
                f"{_plural(files, 'file')}, {_size_text(total)}: within {label}'s limits.",
            )
        )
    return findings


def shared_findings(submission: Submission, *, rules: RepositoryRules, label: str) -> list[Finding]:
    """Every shared rule, in the order people fix things: data, description, release."""
    datasets = list(submission.datasets.select_related("storage_root", "project").order_by("title", "pk"))
    findings = rule_datasets(datasets)
    if datasets:
        findings += rule_scan_errors(datasets)
        findings += rule_checksums(datasets)
        findings += rule_formats(datasets, rules, label)
        findings += rule_filenames(datasets, rules, label)
        findings += rule_limits(datasets, rules, label)
        findings += rule_rembi(datasets)
    findings += rule_licence(submission, rules, label)
    findings += rule_release_date(submission, rules, label)
    return findings
