"""Which archive suits a dataset: a pure function of what people know when they start.

Facts it relies on: the BioImage Archive takes any biological image data linked to a study,
in any Bio-Formats-readable format and without a size limit, under CC0 or CC BY 4.0; the IDR
curates reference datasets, above all high-content screens, into an added-value database and
publishes them under CC BY 4.0 (or CC0); Zenodo takes any file up to 50 GB and 100 files per
record, under any licence, with a DOI at once but no image-specific metadata; raw cryo-EM data
belong in EMPIAR, which FAIRlight does not package for.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from django.db import models

from metadata.units import decimal_bytes
from repositories.models import Target

ZENODO_MAX_BYTES = 50 * 1000**3
ZENODO_MAX_FILES = 100
OPEN_LICENCES = ("CC0-1.0", "CC-BY-4.0")


class Modality(models.TextChoices):
    LIGHT = "light", "Light microscopy"
    ELECTRON = "electron", "Volume or other electron microscopy"
    CRYO_EM = "cryo-em", "Cryo-EM or cryo-ET (particles, tilt series)"
    OTHER = "other", "Another kind of imaging"


@dataclass(frozen=True)
class Option:
    target: Target
    suitable: bool
    reasons: list[str]


@dataclass(frozen=True)
class Advice:
    """The recommended archive (None if none fits), every option with its reasons, and notes."""

    recommended: Target | None
    options: list[Option]
    notes: list[str] = field(default_factory=list)

    @property
    def reasons(self) -> list[str]:
        """Why the recommended archive, then the notes."""
        chosen = next((o for o in self.options if o.target == self.recommended), None)
        return [*(chosen.reasons if chosen else []), *self.notes]


def _bia(modality: Modality, is_screen: bool, licence: str) -> Option:
    if licence not in OPEN_LICENCES:
        return Option(
            Target.BIA, False, [f"The BioImage Archive publishes under CC0 or CC BY 4.0, not {licence}."]
        )
    reasons = [
        "The BioImage Archive takes any biological image data behind a study, in any Bio-Formats-readable "
        "format and without a size limit, and describes it with REMBI."
    ]
    if is_screen:
        reasons.append("It takes screens too, without the IDR's curation.")
    if modality == Modality.CRYO_EM:
        reasons.append("It takes cryo-ET annotations and derived data that EMPIAR does not.")
    return Option(Target.BIA, True, reasons)


def _idr(modality: Modality, is_screen: bool, is_reference: bool, licence: str) -> Option:
    if licence not in OPEN_LICENCES:
        return Option(Target.IDR, False, [f"The IDR publishes under CC BY 4.0 or CC0, not {licence}."])
    if modality == Modality.CRYO_EM:
        return Option(Target.IDR, False, ["The IDR does not take cryo-EM data."])
    if is_screen:
        return Option(
            Target.IDR,
            True,
            [
                "High-content screens are the IDR's speciality: it curates plates, wells and phenotypes "
                "into a searchable, added-value database linked to genes and compounds."
            ],
        )
    if is_reference:
        return Option(
            Target.IDR,
            True,
            ["The IDR curates reference image datasets of lasting value, with rich annotations, for reuse."],
        )
    return Option(
        Target.IDR,
        False,
        [
            "The IDR takes screens and curated reference datasets; "
            "data behind a single study fit the BioImage Archive."
        ],
    )


def _zenodo(total_bytes: int, file_count: int | None) -> Option:
    if total_bytes > ZENODO_MAX_BYTES:
        return Option(
            Target.ZENODO,
            False,
            [
                f"{decimal_bytes(total_bytes)} is more than Zenodo's limit of "
                f"{decimal_bytes(ZENODO_MAX_BYTES)} per record."
            ],
        )
    reasons = [
        f"{decimal_bytes(total_bytes)} fits in one Zenodo record (up to {decimal_bytes(ZENODO_MAX_BYTES)}); "
        "Zenodo gives a DOI at once and takes any licence, but has no image-specific metadata or viewer."
    ]
    if file_count is not None and file_count > ZENODO_MAX_FILES:
        reasons.append(f"Zip the {file_count} files into at most {ZENODO_MAX_FILES} archives for Zenodo.")
    return Option(Target.ZENODO, True, reasons)


def recommend(
    *,
    modality: Modality,
    total_bytes: int,
    is_screen: bool,
    is_reference: bool,
    licence: str,
    file_count: int | None = None,
) -> Advice:
    """The archive to choose and why; EMPIAR is mentioned for cryo-EM."""
    bia = _bia(modality, is_screen, licence)
    idr = _idr(modality, is_screen, is_reference, licence)
    zenodo = _zenodo(total_bytes, file_count)
    # Image archives first: they keep the imaging metadata; Zenodo is the fallback.
    order = [idr, bia, zenodo] if (is_screen or is_reference) else [bia, idr, zenodo]
    recommended = next((option.target for option in order if option.suitable), None)
    notes = []
    if modality == Modality.CRYO_EM:
        notes.append(
            "Raw cryo-EM data (movies, micrographs, tilt series) belong in EMPIAR, EMBL-EBI's Electron "
            "Microscopy Public Image Archive, and maps in EMDB; FAIRlight does not package for them yet."
        )
    if recommended is None:
        notes.append(
            "No archive FAIRlight packages for takes this combination; choose CC0 or CC BY 4.0, "
            f"or split the data into records of at most {decimal_bytes(ZENODO_MAX_BYTES)}."
        )
    return Advice(recommended=recommended, options=order, notes=notes)
