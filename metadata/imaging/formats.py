"""Recognising formats by content first, then by name."""

from __future__ import annotations

from enum import StrEnum
from pathlib import Path


class Format(StrEnum):
    OME_TIFF = "ome-tiff"
    TIFF = "tiff"
    CZI = "czi"
    LIF = "lif"
    ND2 = "nd2"
    OME_ZARR = "ome-zarr"
    OME_XML = "ome-xml"
    PNG = "png"
    JPEG = "jpeg"
    OTHER = "other"


FORMAT_LABELS = {
    Format.OME_TIFF: "OME-TIFF",
    Format.TIFF: "TIFF",
    Format.CZI: "Zeiss CZI",
    Format.LIF: "Leica LIF",
    Format.ND2: "Nikon ND2",
    Format.OME_ZARR: "OME-Zarr",
    Format.OME_XML: "OME-XML",
    Format.PNG: "PNG",
    Format.JPEG: "JPEG",
    Format.OTHER: "Other",
}

_TIFF_MAGIC = (b"II*\x00", b"MM\x00*", b"II+\x00", b"MM\x00+")
_ND2_MAGIC = (b"\xda\xce\xbe\x0a", b"\x00\x00\x00\x0cjP  ")
_XML_SUFFIXES = (".ome.xml", ".companion.ome")


def _is_lif(head: bytes) -> bool:
    # LIF: a 0x70 test value, a 4-byte length, then 0x2A before the XML header.
    return len(head) >= 9 and head[:4] == b"\x70\x00\x00\x00" and head[8] == 0x2A


def sniff(path: Path, head: bytes) -> Format:
    """The format of a regular file from its first bytes and its name."""
    name = path.name.lower()
    if head.startswith(_TIFF_MAGIC):
        return (
            Format.OME_TIFF
            if name.endswith((".ome.tif", ".ome.tiff", ".ome.tf2", ".ome.btf"))
            else Format.TIFF
        )
    if head.startswith(b"ZISRAWFILE"):
        return Format.CZI
    if _is_lif(head):
        return Format.LIF
    if head.startswith(_ND2_MAGIC):
        return Format.ND2
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return Format.PNG
    if head.startswith(b"\xff\xd8\xff"):
        return Format.JPEG
    if name.endswith(_XML_SUFFIXES) and b"<" in head:
        return Format.OME_XML
    return Format.OTHER


def is_ome_zarr_dir(path: Path) -> bool:
    """A folder that is one OME-Zarr image or plate (NGFF v0.1-0.5), not a plain folder."""
    return path.name.lower().endswith(".zarr") and any(
        (path / marker).is_file() for marker in (".zattrs", ".zgroup", "zarr.json")
    )
