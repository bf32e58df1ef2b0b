"""The format advisor: what each format means for sharing microscopy data, and which target
repositories take it as it is. Facts from the repositories' submission guides (BioImage Archive:
any Bio-Formats-readable format, converted to OME-Zarr for viewing; IDR: Bio-Formats-readable
formats, screens and studies curated into OME-NGFF; Zenodo: any file, no conversion)."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from metadata.imaging.formats import FORMAT_LABELS, Format


class Verdict(StrEnum):
    OPEN = "open"
    PROPRIETARY = "proprietary"
    LOSSY = "lossy"
    METADATA = "metadata"
    NOT_IMAGE = "not an image"


@dataclass(frozen=True)
class FormatAdvice:
    verdict: Verdict
    advice: str
    bia: bool
    idr: bool
    zenodo: bool


_CONVERT = (
    "Proprietary: keep the original, and share an OME-TIFF or OME-Zarr conversion "
    "(bioformats2raw / bfconvert) so that anyone can read it without the vendor's software."
)

ADVICE: dict[Format, FormatAdvice] = {
    Format.OME_TIFF: FormatAdvice(
        Verdict.OPEN, "Open community standard with full OME metadata: share as it is.", True, True, True
    ),
    Format.OME_ZARR: FormatAdvice(
        Verdict.OPEN,
        "Open, chunked and cloud-ready (OME-NGFF): share as it is; zip it for Zenodo.",
        True,
        True,
        True,
    ),
    Format.TIFF: FormatAdvice(
        Verdict.OPEN,
        "Open, but plain TIFF loses pixel sizes and channel names: prefer OME-TIFF when you convert.",
        True,
        True,
        True,
    ),
    Format.CZI: FormatAdvice(Verdict.PROPRIETARY, _CONVERT, True, True, True),
    Format.LIF: FormatAdvice(Verdict.PROPRIETARY, _CONVERT, True, True, True),
    Format.ND2: FormatAdvice(Verdict.PROPRIETARY, _CONVERT, True, True, True),
    Format.OME_XML: FormatAdvice(
        Verdict.METADATA,
        "OME metadata (a companion file or a specification sample): keep it with its images.",
        True,
        True,
        True,
    ),
    Format.PNG: FormatAdvice(
        Verdict.OPEN,
        "Lossless but without physical pixel sizes or channel metadata: "
        "fine for figures, not for raw microscopy data.",
        True,
        False,
        True,
    ),
    Format.JPEG: FormatAdvice(
        Verdict.LOSSY,
        "Lossy compression changes intensities: unsuitable for microscopy data; "
        "keep or re-export the original.",
        True,
        False,
        True,
    ),
    Format.OTHER: FormatAdvice(
        Verdict.NOT_IMAGE,
        "Not recognised as an image; archives accept it as supplementary data.",
        True,
        False,
        True,
    ),
}


@dataclass(frozen=True)
class AdviceRow:
    label: str
    count: int
    bytes: int
    advice: FormatAdvice


def advise(format_summary: dict[str, dict[str, int]]) -> list[AdviceRow]:
    """One row per format present in a dataset, largest first."""
    rows = [
        AdviceRow(FORMAT_LABELS[Format(fmt)], row["count"], row["bytes"], ADVICE[Format(fmt)])
        for fmt, row in format_summary.items()
        if fmt in Format._value2member_map_
    ]
    return sorted(rows, key=lambda row: -row.bytes)
