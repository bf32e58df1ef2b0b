"""Header-only inspection per format. Every failure becomes an InspectionError."""

from __future__ import annotations

import importlib
import json
import math
import struct
import warnings
from collections.abc import Callable
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import Any

import tifffile

from metadata.imaging.errors import ErrorCode, InspectionError
from metadata.imaging.formats import FORMAT_LABELS, Format, is_ome_zarr_dir, sniff
from metadata.imaging.ome import (
    OmeXmlError,
    binary_only_metadata_file,
    companion_files,
    fill_from_ome,
    fill_from_ome_xml,
    plate_summary,
)
from metadata.imaging.records import Channel, ImageRecord
from metadata.imaging.units import tree_totals

# Vendor formats read through bioio plugins, always with the reader named explicitly.
VENDOR_READERS = {
    Format.CZI: ("bioio_czi", "bioio-czi"),
    Format.LIF: ("bioio_lif", "bioio-lif"),
    Format.ND2: ("bioio_nd2", "bioio-nd2"),
}
GPL_READERS = {Format.CZI, Format.LIF}
MAX_WARNING_NOTES = 5


def _package_version(distribution: str) -> str:
    try:
        return version(distribution)
    except PackageNotFoundError:
        return "?"


def inspect_path(path: Path) -> ImageRecord:
    """Inspect one file or OME-Zarr folder; raises InspectionError."""
    try:
        if path.is_dir():
            if not is_ome_zarr_dir(path):
                raise InspectionError(ErrorCode.UNREADABLE, "This is a folder, not an OME-Zarr image.")
            return _ome_zarr(path)
        size = path.stat().st_size
        with path.open("rb") as handle:
            head = handle.read(64)
        fmt = sniff(path, head)
        # Readers warn about metadata values they cannot convert; those become notes
        # on the record rather than noise on the console (or errors under pytest).
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            try:
                record = _INSPECTORS[fmt](path, size, fmt)
            except InspectionError as exc:
                exc.format = exc.format or fmt
                raise
        record.notes.extend(
            dict.fromkeys(f"Metadata warning: {w.message}" for w in caught[:MAX_WARNING_NOTES])
        )
        return record
    except InspectionError:
        raise
    except PermissionError:
        raise InspectionError(
            ErrorCode.PERMISSION_DENIED,
            "FAIRlight may not read this file (permission denied); ask the facility to grant read access.",
        ) from None
    except FileNotFoundError:
        raise InspectionError(
            ErrorCode.VANISHED, "The file disappeared while it was being scanned."
        ) from None
    except IsADirectoryError:
        raise InspectionError(ErrorCode.UNREADABLE, "This is a folder, not a file.") from None
    except OSError as exc:
        raise InspectionError(
            ErrorCode.UNREADABLE, f"The file could not be read: {exc.strerror or exc}."
        ) from None


def _check_extent(fmt: Format, size: int, data_end: int) -> None:
    if data_end > size:
        raise InspectionError(
            ErrorCode.TRUNCATED,
            f"The {FORMAT_LABELS[fmt]} file ends at {size:,} bytes but its image data runs to "
            f"{data_end:,} bytes: it was probably cut off while copying. Copy it again from the source.",
        )


def _tiff_data_end(tif: tifffile.TiffFile) -> int:
    end = 0
    for page in (tif.pages.first, tif.pages[-1]):
        offsets, counts = page.dataoffsets, page.databytecounts
        if offsets:
            end = max(end, max(o + c for o, c in zip(offsets, counts, strict=False)))
    return end


# tifffile's axis letters that are not spatial, time or channel axes of the image.
_TIFF_AXES = {"S": "S", "Q": "Q", "I": "T"}


def _check_tiff_has_pixels(tif: tifffile.TiffFile) -> None:
    try:
        first = tif.pages.first
    except IndexError:
        raise InspectionError(
            ErrorCode.CORRUPT,
            "This is not a readable TIFF file: the place of its first image lies outside the file, "
            "which is damaged or truncated.",
        ) from None
    # Every image of a valid TIFF has strips or tiles; a header alone is not an image.
    if not first.dataoffsets or 0 in first.shape:
        raise InspectionError(
            ErrorCode.CORRUPT,
            "This is not a readable TIFF file: its first image has no pixel data (no strips or "
            "tiles, or a width or height of 0); the file is damaged or was not written completely.",
        )


def _tiff(path: Path, size: int, fmt: Format) -> ImageRecord:
    try:
        with tifffile.TiffFile(path) as tif:
            _check_tiff_has_pixels(tif)
            _check_extent(fmt, size, _tiff_data_end(tif))
            xml = tif.ome_metadata if tif.is_ome else None
            reader = f"tifffile {tifffile.__version__}"
            if xml:
                return _ome_tiff(tif, xml, size, reader + f" + ome-types {_package_version('ome-types')}")
            return _plain_tiff(tif, size, reader)
    except InspectionError:
        raise
    except (tifffile.TiffFileError, struct.error, ValueError, IndexError) as exc:
        raise InspectionError(ErrorCode.CORRUPT, f"This is not a readable TIFF file: {exc}.") from None


def _ome_tiff(tif: tifffile.TiffFile, xml: str, size: int, reader: str) -> ImageRecord:
    record = ImageRecord(format=Format.OME_TIFF, reader=reader, size_bytes=size)
    companion = binary_only_metadata_file(xml)
    if companion is not None:
        # One file of a multi-file fileset: its metadata lives in the companion file.
        record.is_image = False
        record.fileset = companion
        record.notes.append(f"Part of a multi-file OME-TIFF described by {companion}.")
        _fill_from_tiff_series(record, tif)
        return record
    try:
        fill_from_ome_xml(record, xml)
    except OmeXmlError as exc:
        raise InspectionError(
            ErrorCode.CORRUPT, f"The OME-XML header of this OME-TIFF is invalid: {exc}."
        ) from None
    record.ome_xml = xml
    return record


def _fill_from_tiff_series(record: ImageRecord, tif: tifffile.TiffFile) -> None:
    series = tif.series[0]
    axes = "".join(_TIFF_AXES.get(axis, axis) for axis in series.axes)
    record.dims = dict(zip(axes, (int(n) for n in series.shape), strict=False))
    record.dimension_order = axes
    record.dtype = str(series.dtype)
    record.image_count = len(tif.series)


# A resolution tag coarser than this is a screen or print setting (72, 96, 300 dpi),
# not a microscope's pixel size, and is ignored.
SCREEN_RESOLUTION_UM = 50.0
_RESOLUTION_UNIT_UM = {2: 25_400.0, 3: 10_000.0}  # inch, centimetre
_IMAGEJ_UNIT_UM = {"micron": 1.0, "um": 1.0, "µm": 1.0, "\\u00B5m": 1.0, "nm": 1e-3, "mm": 1e3}


def _plain_tiff(tif: tifffile.TiffFile, size: int, reader: str) -> ImageRecord:
    record = ImageRecord(format=Format.TIFF, reader=reader, size_bytes=size)
    _fill_from_tiff_series(record, tif)
    page = tif.pages.first
    imagej = tif.imagej_metadata or {}
    resolution = page.tags.get("XResolution")
    if resolution is not None:
        numerator, denominator = resolution.value
        per_unit = numerator / denominator if denominator else 0
        unit_um = _IMAGEJ_UNIT_UM.get(str(imagej.get("unit", "")))
        if unit_um is None:
            unit_tag = page.tags.get("ResolutionUnit")
            unit_um = _RESOLUTION_UNIT_UM.get(int(unit_tag.value)) if unit_tag is not None else None
        pixel_um = unit_um / per_unit if unit_um and per_unit > 0 and per_unit != 1 else None
        if (
            unit_um
            and pixel_um is not None
            and (str(imagej.get("unit", "")) in _IMAGEJ_UNIT_UM or pixel_um < SCREEN_RESOLUTION_UM)
        ):
            record.pixel_size_um = {"x": pixel_um, "y": pixel_um}
            if imagej.get("spacing"):
                record.pixel_size_um["z"] = float(imagej["spacing"]) * unit_um
    if imagej.get("finterval"):
        record.time_increment_s = float(imagej["finterval"])
    if imagej.get("ImageJ") is not None:
        record.notes.append(f"Written by ImageJ {imagej['ImageJ']}.")
    return record


def _png(path: Path, size: int, fmt: Format) -> ImageRecord:
    """Walk the PNG chunk list (lengths and types only) to find truncation cheaply."""
    record = ImageRecord(format=fmt, reader="fairlight png-chunks", size_bytes=size)
    with path.open("rb") as handle:
        handle.seek(8)
        while True:
            header = handle.read(8)
            if len(header) < 8:
                raise InspectionError(
                    ErrorCode.TRUNCATED,
                    f"The PNG file stops after {size:,} bytes before its end marker: it was probably cut "
                    "off while copying.",
                )
            length, kind = struct.unpack(">I4s", header)
            start = handle.tell()
            if kind == b"IHDR":
                width, height, depth, color = struct.unpack(">IIBB", handle.read(10))
                samples = {0: 1, 2: 3, 3: 1, 4: 2, 6: 4}.get(color, 1)
                record.dims = {"Y": height, "X": width} | ({"S": samples} if samples > 1 else {})
                record.dimension_order = "YXS" if samples > 1 else "YX"
                record.dtype = "uint16" if depth == 16 else "uint8"
                record.image_count = 1
            elif kind == b"pHYs":
                ppu_x, ppu_y, unit = struct.unpack(">IIB", handle.read(9))
                if unit == 1 and ppu_x and ppu_y and 1e6 / ppu_x < SCREEN_RESOLUTION_UM:
                    record.pixel_size_um = {"x": 1e6 / ppu_x, "y": 1e6 / ppu_y}
            elif kind == b"IEND":
                break
            _check_extent(fmt, size, start + length + 4)
            handle.seek(start + length + 4)
    if not record.dims:
        raise InspectionError(ErrorCode.CORRUPT, "The PNG file has no image header (IHDR chunk).")
    return record


def _jpeg(path: Path, size: int, fmt: Format) -> ImageRecord:
    from PIL import Image, UnidentifiedImageError

    record = ImageRecord(format=fmt, reader="Pillow", size_bytes=size)
    try:
        with Image.open(path) as image:
            width, height = image.size
            bands = len(image.getbands())
            dpi = image.info.get("dpi")
    except (UnidentifiedImageError, OSError, SyntaxError) as exc:
        raise InspectionError(ErrorCode.CORRUPT, f"This is not a readable JPEG file: {exc}.") from None
    with path.open("rb") as handle:
        handle.seek(max(size - 2, 0))
        if handle.read(2) != b"\xff\xd9":
            raise InspectionError(
                ErrorCode.TRUNCATED, "The JPEG file has no end marker: it was probably cut off while copying."
            )
    record.dims = {"Y": height, "X": width} | ({"S": bands} if bands > 1 else {})
    record.dimension_order = "YXS" if bands > 1 else "YX"
    record.dtype = "uint8"
    record.image_count = 1
    if dpi and dpi[0] and 25_400.0 / float(dpi[0]) < SCREEN_RESOLUTION_UM:
        record.pixel_size_um = {"x": 25_400.0 / float(dpi[0]), "y": 25_400.0 / float(dpi[1])}
    record.notes.append("JPEG compression is lossy: unsuitable for quantitative microscopy data.")
    return record


def _ome_xml(path: Path, size: int, fmt: Format) -> ImageRecord:
    xml = path.read_text(encoding="utf-8", errors="replace")
    record = ImageRecord(format=fmt, reader="fairlight ome-xml", size_bytes=size)
    try:
        fill_from_ome_xml(record, xml)
    except OmeXmlError as exc:
        raise InspectionError(ErrorCode.CORRUPT, f"This OME-XML file is not valid: {exc}.") from None
    record.ome_xml = xml
    record.is_image = record.image_count > 0
    if path.name.lower().endswith(".companion.ome"):
        files = companion_files(xml)
        record.notes.append(f"Companion metadata of a multi-file OME-TIFF ({len(files)} files).")
    plates, wells = plate_summary(xml)
    if plates:
        record.notes.append(f"High-content screening plate metadata: {plates} plate(s), {wells} wells.")
    return record


def _vendor(path: Path, size: int, fmt: Format) -> ImageRecord:
    module_name, distribution = VENDOR_READERS[fmt]
    try:
        plugin = importlib.import_module(module_name)
    except ImportError:
        extra = " (GPL-3 licensed: `uv sync --extra gpl`)" if fmt in GPL_READERS else ""
        raise InspectionError(
            ErrorCode.READER_NOT_INSTALLED,
            f"Reader not installed: reading {FORMAT_LABELS[fmt]} files needs {distribution}{extra}.",
        ) from None
    from bioio import BioImage

    record = ImageRecord(
        format=fmt, reader=f"{distribution} {_package_version(distribution)}", size_bytes=size
    )
    try:
        image = BioImage(path, reader=plugin.Reader, reconstruct_mosaic=False)
        record.scene_names = [str(scene) for scene in image.scenes]
        record.image_count = len(image.scenes)
        record.dimension_order = image.dims.order
        record.dims = {axis: int(n) for axis, n in zip(image.dims.order, image.dims.shape, strict=True)}
        record.dtype = str(image.dtype)
        sizes = image.physical_pixel_sizes
        record.pixel_size_um = {
            axis: float(value)
            for axis, value in (("x", sizes.X), ("y", sizes.Y), ("z", sizes.Z))
            if value and math.isfinite(value)
        }
        record.channels = [Channel(name=str(name)) for name in image.channel_names]
    except Exception as exc:
        raise InspectionError(
            ErrorCode.CORRUPT,
            f"The {distribution} reader could not read the header: {exc or type(exc).__name__}.",
        ) from None
    _vendor_ome(record, image, distribution)
    return record


def _vendor_ome(record: ImageRecord, image: Any, distribution: str) -> None:
    """Instrument, objective and channel details, when the reader can convert its metadata to OME."""
    reader_dims, reader_sizes, reader_channels = record.dims, record.pixel_size_um, record.channels
    try:
        ome = image.ome_metadata
    except Exception as exc:
        detail = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        record.notes.append(
            f"{distribution} could not convert the metadata to OME ({detail}); basic fields only."
        )
        return
    fill_from_ome(record, ome, dims_from_ome=False)
    record.dims = reader_dims
    record.pixel_size_um = record.pixel_size_um or reader_sizes
    if not any(channel.name for channel in record.channels):
        record.channels = reader_channels
    record.ome_xml = ome.to_xml()


def _other(path: Path, size: int, fmt: Format) -> ImageRecord:
    return ImageRecord(format=fmt, reader="", size_bytes=size, is_image=False)


def _ome_zarr(path: Path) -> ImageRecord:
    try:
        return _read_ome_zarr(path)
    except InspectionError:
        raise
    except (KeyError, IndexError, TypeError, ValueError, AttributeError) as exc:
        what = f"no {exc}" if isinstance(exc, KeyError) else str(exc)
        raise InspectionError(
            ErrorCode.CORRUPT,
            f"The OME-Zarr metadata of {path.name} is not laid out as the NGFF specification says ({what}).",
        ) from None


def _read_ome_zarr(path: Path) -> ImageRecord:
    size, _, count = tree_totals(path)
    record = ImageRecord(
        format=Format.OME_ZARR, reader="fairlight ngff-json", size_bytes=size, file_count=count
    )
    attrs = zarr_attrs(path)
    ome_xml_path = path / "OME" / "METADATA.ome.xml"
    if "plate" in attrs:
        plate = attrs["plate"]
        wells = plate.get("wells", [])
        record.image_count = len(wells) * max(int(plate.get("field_count", 1)), 1)
        name = f" {plate['name']}" if plate.get("name") else ""
        record.notes.append(f"High-content screening plate{name}: {len(wells)} wells.")
        first = path / wells[0]["path"] / "0" if wells else None
        if first is not None and first.is_dir():
            _fill_from_multiscales(record, first, zarr_attrs(first))
        return record
    if "multiscales" in attrs:
        _fill_from_multiscales(record, path, attrs)
        record.image_count = 1
    elif "bioformats2raw.layout" in attrs and (path / "0").is_dir():
        series = sorted(p.name for p in path.iterdir() if p.is_dir() and p.name.isdigit())
        _fill_from_multiscales(record, path / "0", zarr_attrs(path / "0"))
        record.image_count = len(series)
    else:
        raise InspectionError(
            ErrorCode.CORRUPT, "This .zarr folder has no OME-Zarr multiscales or plate metadata."
        )
    if ome_xml_path.is_file():
        xml = ome_xml_path.read_text(encoding="utf-8", errors="replace")
        dims, dtype = record.dims, record.dtype
        try:
            fill_from_ome_xml(record, xml)
            record.ome_xml = xml
        except OmeXmlError as exc:
            record.notes.append(f"OME/METADATA.ome.xml is not valid OME-XML ({exc}).")
        record.dims, record.dtype = dims, dtype  # the arrays, not the XML, say what is stored
    return record


def _json_file(path: Path) -> Any:
    """The JSON in an OME-Zarr metadata file; InspectionError when it cannot be read as JSON."""
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except RecursionError:
        reason = "it is nested too deeply"
    except UnicodeDecodeError:
        reason = "it is not UTF-8 text"
    except json.JSONDecodeError as exc:
        reason = str(exc)
    except ValueError:  # Python refuses to convert integers of thousands of digits
        reason = "it holds a number too long to read"
    raise InspectionError(
        ErrorCode.CORRUPT, f"The OME-Zarr metadata in {path.parent.name} is not valid JSON: {reason}."
    )


def zarr_attrs(folder: Path) -> dict[str, Any]:
    if (folder / "zarr.json").is_file():  # Zarr v3 / NGFF 0.5
        attributes = _json_file(folder / "zarr.json").get("attributes", {})
        return dict(attributes.get("ome", attributes))
    if (folder / ".zattrs").is_file():
        return dict(_json_file(folder / ".zattrs"))
    return {}


_NGFF_UNIT_UM = {"nanometer": 1e-3, "micrometer": 1.0, "millimeter": 1e3, "meter": 1e6, "angstrom": 1e-4}
_NGFF_TIME_S = {"millisecond": 1e-3, "second": 1.0, "minute": 60.0, "hour": 3600.0}


def _fill_from_multiscales(record: ImageRecord, folder: Path, attrs: dict[str, Any]) -> None:
    multiscales = attrs.get("multiscales") or []
    if not multiscales:
        raise InspectionError(ErrorCode.CORRUPT, f"{folder.name} has no OME-Zarr multiscales metadata.")
    first = multiscales[0]
    axes = [a if isinstance(a, dict) else {"name": a} for a in first.get("axes", ["t", "c", "z", "y", "x"])]
    level = first["datasets"][0]
    shape, dtype = _zarr_array_shape(folder / level["path"])
    names = [str(axis["name"]).upper() for axis in axes]
    record.dimension_order = "".join(names)
    record.dims = dict(zip(names, shape, strict=False))
    record.dtype = dtype
    scale = next(
        (t["scale"] for t in level.get("coordinateTransformations", []) if t.get("type") == "scale"), None
    )
    if scale:
        for axis, value in zip(axes, scale, strict=False):
            name = str(axis["name"]).lower()
            unit = str(axis.get("unit", ""))
            if name in ("x", "y", "z") and unit in _NGFF_UNIT_UM:
                record.pixel_size_um[name] = float(value) * _NGFF_UNIT_UM[unit]
            elif name == "t" and unit in _NGFF_TIME_S:
                record.time_increment_s = float(value) * _NGFF_TIME_S[unit]
    channels = (attrs.get("omero") or {}).get("channels") or []
    record.channels = [
        Channel(name=str(channel["label"]) if "label" in channel else None) for channel in channels
    ]


def _zarr_array_shape(array: Path) -> tuple[list[int], str]:
    if (array / "zarr.json").is_file():
        meta = _json_file(array / "zarr.json")
        return [int(n) for n in meta["shape"]], str(meta["data_type"])
    if (array / ".zarray").is_file():
        import numpy as np

        meta = _json_file(array / ".zarray")
        return [int(n) for n in meta["shape"]], np.dtype(meta["dtype"]).name
    raise InspectionError(ErrorCode.CORRUPT, f"The OME-Zarr array {array.name} has no .zarray or zarr.json.")


_INSPECTORS: dict[Format, Callable[[Path, int, Format], ImageRecord]] = {
    Format.OME_TIFF: _tiff,
    Format.TIFF: _tiff,
    Format.PNG: _png,
    Format.JPEG: _jpeg,
    Format.OME_XML: _ome_xml,
    Format.CZI: _vendor,
    Format.LIF: _vendor,
    Format.ND2: _vendor,
    Format.OTHER: _other,
}
