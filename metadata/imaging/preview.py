"""Small PNG previews of images: the lowest resolution level (or the middle z plane, first
time point), per-channel auto-contrast, at most PREVIEW_PIXELS on the long side.

Unlike inspection, this reads pixels, so it runs as a separate background step after the
header scan; a file whose pixels cannot be read keeps its metadata and gets a reason instead.
"""

from __future__ import annotations

import importlib
import io
from pathlib import Path
from typing import Any

import numpy as np
import tifffile
import zarr
from numpy.typing import NDArray
from PIL import Image

from metadata.imaging.formats import Format
from metadata.imaging.inspect import VENDOR_READERS, zarr_attrs

PREVIEW_PIXELS = 256
# A single plane larger than this, without a smaller pyramid level, is not decoded for a preview.
MAX_PLANE_PIXELS = 64 * 1024 * 1024
# Channel colours for composites: grey for one channel, then green, magenta, ... (colour-blind safe).
_COLOURS = {
    1: [(1.0, 1.0, 1.0)],
    2: [(0.0, 1.0, 0.0), (1.0, 0.0, 1.0)],
    3: [(1.0, 0.0, 0.0), (0.0, 1.0, 0.0), (0.0, 0.0, 1.0)],
}


class PreviewError(Exception):
    """Why an image has no preview, in words for the file page."""


def render_preview(path: Path, fmt: str) -> bytes:
    """PNG bytes of a preview of the image at ``path``; raises PreviewError."""
    try:
        channels = _planes(path, Format(fmt))
    except PreviewError:
        raise
    except MemoryError:
        raise PreviewError("The image plane is too large to decode for a preview.") from None
    except Exception as exc:
        raise PreviewError(f"The pixels could not be read: {exc or type(exc).__name__}.") from None
    # A header may claim a width or height of 0 (a damaged or hand-made file).
    if not channels or any(0 in channel.shape for channel in channels):
        raise PreviewError("The image has no pixels to show (its width or height is 0).")
    return _png(_composite(channels))


def _planes(path: Path, fmt: Format) -> list[NDArray[np.floating]]:
    """Up to three 2-D channel planes of the image's middle z, first t (or RGB samples)."""
    if fmt in (Format.OME_TIFF, Format.TIFF):
        return _tiff_planes(path)
    if fmt in (Format.PNG, Format.JPEG):
        with Image.open(path) as image:
            image.draft("RGB", (PREVIEW_PIXELS * 2, PREVIEW_PIXELS * 2))  # JPEG decodes at a reduced size
            array = np.asarray(image.convert("RGB" if image.mode not in ("L", "I;16", "I") else image.mode))
        return _split_samples(array)
    if fmt == Format.OME_ZARR:
        return _zarr_planes(path)
    if fmt in VENDOR_READERS:
        return _vendor_planes(path, fmt)
    if fmt == Format.OME_XML:
        raise PreviewError("This file holds metadata only; the pixels are in the files it describes.")
    raise PreviewError("Previews are made for images only.")


def _split_samples(array: NDArray[np.generic]) -> list[NDArray[np.floating]]:
    if array.ndim == 2:
        return [array.astype(np.float32)]
    return [array[..., index].astype(np.float32) for index in range(min(array.shape[-1], 3))]


def _channel_planes(array: Any, axes: str, channel_axis: str | None) -> list[NDArray[np.floating]]:
    """Up to three channel planes (Y, X) of the middle z and first of every other axis."""
    shape = tuple(array.shape)
    count = min(shape[axes.index(channel_axis)], 3) if channel_axis else 1
    planes = []
    for channel in range(count):
        key = tuple(
            slice(None)
            if axis in "YX"
            else channel
            if axis == channel_axis
            else (size // 2 if axis == "Z" else 0)
            for axis, size in zip(axes, shape, strict=True)
        )
        planes.append(np.asarray(array[key]).astype(np.float32))
    return planes


def _tiff_planes(path: Path) -> list[NDArray[np.floating]]:
    with tifffile.TiffFile(path) as tif:
        series = tif.series[0]
        level = series.levels[-1] if series.is_pyramidal else series
        for candidate in reversed(series.levels):  # the smallest level still larger than the preview
            if min(candidate.shape[-2:]) >= PREVIEW_PIXELS:
                level = candidate
                break
        axes = level.axes
        plane_pixels = int(np.prod([n for a, n in zip(axes, level.shape, strict=True) if a in "YX"]))
        if plane_pixels > MAX_PLANE_PIXELS:
            raise PreviewError("The image is too large for a preview and has no smaller resolution level.")
        if "S" in axes:  # RGB samples: read the plane with its samples and split them
            plane = np.asarray(level.asarray())
            plane = plane[tuple(0 if a not in "YXS" else slice(None) for a in axes)]
            return _split_samples(plane)
        with level.aszarr() as store:
            array = zarr.open_array(store, mode="r")
            return _channel_planes(array, axes, "C" if "C" in axes else None)


def _zarr_planes(path: Path) -> list[NDArray[np.floating]]:
    folder = path
    attrs = zarr_attrs(folder)
    if "bioformats2raw.layout" in attrs and "multiscales" not in attrs:
        folder = path / "0"
        attrs = zarr_attrs(folder)
    if "plate" in attrs:
        folder = path / attrs["plate"]["wells"][0]["path"] / "0"
        attrs = zarr_attrs(folder)
    multiscales = attrs.get("multiscales") or []
    if not multiscales:
        raise PreviewError("No OME-Zarr multiscales metadata to find the image levels.")
    axes = "".join(
        str(axis["name"] if isinstance(axis, dict) else axis).upper()
        for axis in multiscales[0].get("axes", ["t", "c", "z", "y", "x"])
    )
    array = zarr.open_array(str(folder / multiscales[0]["datasets"][-1]["path"]), mode="r")
    return _channel_planes(array, axes, "C" if "C" in axes else None)


def _vendor_planes(path: Path, fmt: Format) -> list[NDArray[np.floating]]:
    module_name, distribution = VENDOR_READERS[fmt]
    try:
        plugin = importlib.import_module(module_name)
    except ImportError:
        raise PreviewError(f"Reader not installed ({distribution}).") from None
    from bioio import BioImage

    image = BioImage(path, reader=plugin.Reader, reconstruct_mosaic=False)
    dims = image.dims
    if dims.Y * dims.X > MAX_PLANE_PIXELS:
        raise PreviewError("The image is too large for a preview and has no smaller resolution level.")
    selection = {"T": 0, "Z": dims.Z // 2}
    if "M" in dims.order:
        selection["M"] = 0
    planes: list[NDArray[np.floating]] = []
    for channel in range(min(dims.C, 3)):
        # get_image_data reads just this plane (dask underneath), never the whole file.
        array = np.asarray(image.get_image_data("YXS" if "S" in dims.order else "YX", C=channel, **selection))
        planes.extend(_split_samples(array) if array.ndim == 3 else [array.astype(np.float32)])
    return planes[:3]


def _stretch(plane: NDArray[np.floating]) -> NDArray[np.floating]:
    finite = plane[np.isfinite(plane)]
    if finite.size == 0:
        return np.zeros_like(plane)
    low, high = np.percentile(finite, (0.5, 99.5))
    if high <= low:
        high = low + 1
    stretched: NDArray[np.floating] = np.clip((plane - low) / (high - low), 0, 1)
    return stretched


def _composite(planes: list[NDArray[np.floating]]) -> NDArray[np.uint8]:
    planes = [_downsample(plane) for plane in planes]
    colours = _COLOURS[len(planes)]
    height, width = planes[0].shape
    rgb = np.zeros((height, width, 3), dtype=np.float32)
    for plane, colour in zip(planes, colours, strict=True):
        stretched = _stretch(plane)
        for index in range(3):
            rgb[..., index] += stretched * colour[index]
    return (np.clip(rgb, 0, 1) * 255).astype(np.uint8)


def _downsample(plane: NDArray[np.floating]) -> NDArray[np.floating]:
    """Stride to at most twice the preview size before Pillow's good but slower resize."""
    step = max(1, max(plane.shape) // (PREVIEW_PIXELS * 2))
    return plane[::step, ::step]


def _png(rgb: NDArray[np.uint8]) -> bytes:
    image = Image.fromarray(rgb, mode="RGB")
    image.thumbnail((PREVIEW_PIXELS, PREVIEW_PIXELS), Image.Resampling.LANCZOS)
    buffer = io.BytesIO()
    image.save(buffer, format="PNG", optimize=True)
    return buffer.getvalue()
