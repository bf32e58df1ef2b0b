"""Header-only inspection of every sample format, and a clear error for broken files."""

from __future__ import annotations

import io
import json
import os
import sys
from pathlib import Path

import numpy as np
import ome_types
import pytest
import tifffile
from django.core.management import call_command
from PIL import Image

from metadata.imaging import ImageRecord, InspectionError, inspect_path, walk_units
from metadata.imaging.errors import ErrorCode
from metadata.imaging.ome import fill_from_ome, fill_from_ome_xml
from metadata.imaging.preview import PreviewError, render_preview
from tests.metadata.conftest import SAMPLES, shared_images


def test_ome_tiff_with_instrument() -> None:
    record = inspect_path(SAMPLES / "ome-tiff/6x4y1z1t1c8b-swatch-instrument.ome.tiff")
    assert record.format == "ome-tiff"
    assert record.dims == {"T": 1, "Z": 1, "C": 1, "Y": 4, "X": 6}
    assert record.objective is not None
    assert record.objective.model == "60xUV-Air"
    assert record.instrument_label == "OME Insturuments Lab Mk3"
    assert record.ome_xml is not None
    assert record.ome_xml.lstrip().startswith("<?xml")


def test_nd2_through_bioio_with_explicit_reader() -> None:
    record = inspect_path(SAMPLES / "nd2/cluster.nd2")
    assert record.reader.startswith("bioio-nd2 ")
    assert record.dims == {"T": 3, "Z": 10, "C": 2, "Y": 31, "X": 38}
    assert record.pixel_size_um == pytest.approx({"x": 0.16781, "y": 0.16781, "z": 0.5}, rel=1e-3)
    assert [c.name for c in record.channels] == ["5-FAM/pH 9.0", "FM 4-64/2% CHAPS"]
    assert record.objective is not None
    assert record.objective.magnification == 60


def test_multifile_ome_tiff_points_at_its_companion() -> None:
    member = inspect_path(SAMPLES / "ome-tiff/multifile/multifile-Z1.ome.tiff")
    assert (member.is_image, member.fileset) == (False, "multifile.companion.ome")
    companion = inspect_path(SAMPLES / "ome-tiff/multifile/multifile.companion.ome")
    assert (companion.format, companion.is_image, companion.dims["Z"]) == ("ome-xml", True, 5)
    assert "5 files" in companion.notes[0]


def test_ome_zarr_folder_is_one_image() -> None:
    record = inspect_path(SAMPLES / "ome-zarr/blobs_image_v04.ome.zarr")
    assert (record.format, record.dims, record.dtype, record.file_count) == (
        "ome-zarr",
        {"C": 3, "Y": 12, "X": 12},
        "float64",
        4,
    )


def test_png_and_jpeg_headers(tmp_path: Path) -> None:
    png = inspect_path(SAMPLES / "png-jpeg/skimage_cell.png")
    assert (png.format, png.dims, png.dtype) == ("png", {"Y": 660, "X": 550}, "uint8")
    jpeg = inspect_path(SAMPLES / "png-jpeg/skimage_retina.jpg")
    assert jpeg.format == "jpeg"
    assert any("lossy" in note for note in jpeg.notes)


def test_plain_tiff_with_imagej_calibration(tmp_path: Path) -> None:
    path = tmp_path / "stack.tif"
    tifffile.imwrite(
        path,
        np.zeros((4, 16, 20), dtype=np.uint16),
        imagej=True,
        resolution=(1 / 0.25, 1 / 0.25),
        metadata={"spacing": 2.0, "unit": "um", "axes": "ZYX"},
    )
    record = inspect_path(path)
    assert (record.format, record.dims, record.dtype) == ("tiff", {"Z": 4, "Y": 16, "X": 20}, "uint16")
    assert record.pixel_size_um == pytest.approx({"x": 0.25, "y": 0.25, "z": 2.0})


def _bytes_of(name: str, limit: int | None = None) -> bytes:
    return (SAMPLES / name).read_bytes()[:limit]


@pytest.mark.parametrize(
    ("name", "content", "code", "message"),
    [
        (
            "cut.png",
            _bytes_of("broken/pillow_truncated_image.png"),
            ErrorCode.TRUNCATED,
            "cut off while copying",
        ),
        ("cut.ome.tif", _bytes_of("ome-tiff/single-channel.ome.tif", 40_000), ErrorCode.TRUNCATED, "cut off"),
        ("cut.jpg", _bytes_of("png-jpeg/skimage_retina.jpg", 5_000), ErrorCode.TRUNCATED, "no end marker"),
        ("bad.tif", b"II*\x00" + b"\xff" * 60, ErrorCode.CORRUPT, "not a readable TIFF"),
        ("bad.ome.xml", b"<OME><Image", ErrorCode.CORRUPT, "not valid"),
    ],
)
def test_broken_files_get_a_clear_error(
    tmp_path: Path, name: str, content: bytes, code: ErrorCode, message: str
) -> None:
    path = tmp_path / name
    path.write_bytes(content)
    with pytest.raises(InspectionError) as error:
        inspect_path(path)
    assert error.value.code == code
    assert message in error.value.message


@pytest.mark.skipif(os.geteuid() == 0, reason="root reads any file, so permissions cannot be tested as root")
def test_unreadable_file(tmp_path: Path) -> None:
    secret = tmp_path / "secret.tif"
    secret.write_bytes(b"II*\x00")
    secret.chmod(0)
    with pytest.raises(InspectionError, match="permission denied"):
        inspect_path(secret)


def test_vanished_file(tmp_path: Path) -> None:
    with pytest.raises(InspectionError) as error:
        inspect_path(tmp_path / "gone.tif")
    assert error.value.code == ErrorCode.VANISHED


def test_inspect_images_command_reports_every_file(capsys: pytest.CaptureFixture[str]) -> None:
    out = io.StringIO()
    call_command("inspect_images", str(SAMPLES), "--json", stdout=out)
    rows = [json.loads(line) for line in out.getvalue().splitlines()]
    by_name = {Path(row["path"]).name: row for row in rows}
    assert by_name["pillow_truncated_image.png"]["error"] == "truncated"
    assert by_name["blobs_image_v04.ome.zarr"]["format"] == "ome-zarr"
    assert by_name["cluster.nd2"]["channels"][0]["name"] == "5-FAM/pH 9.0"
    assert len(rows) == 16  # 15 readable files or OME-Zarr folders + 1 broken
    assert "1 file(s) could not be read" in capsys.readouterr().err


def test_every_shared_sample_is_read_or_explained() -> None:
    """Must show: metadata for each readable image in ../shared, a clear error for the broken one."""
    root = shared_images()
    out = io.StringIO()
    call_command("inspect_images", str(root), "--json", stdout=out)
    rows = [json.loads(line) for line in out.getvalue().splitlines()]
    errors = [row for row in rows if "error" in row]
    assert [Path(row["path"]).name for row in errors] == ["pillow_truncated_image.png"]
    by_name = {Path(row["path"]).name: row for row in rows}
    assert by_name["RGB-multichannel.czi"]["channels"][0]["name"] == "Bright"
    assert by_name["RGB-multichannel.czi"]["pixel_size_um"]["x"] == pytest.approx(2.95849, rel=1e-4)
    assert by_name["LeicaLASX_wavelength-sweep_example.lif"]["image_count"] == 3
    assert by_name["plate_ones.zarr"]["format"] == "ome-zarr"


def test_missing_gpl_reader_is_reported(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setitem(sys.modules, "bioio_czi", None)  # makes `import bioio_czi` fail
    path = tmp_path / "x.czi"
    path.write_bytes(b"ZISRAWFILE" + b"\x00" * 100)
    with pytest.raises(InspectionError) as error:
        inspect_path(path)
    assert error.value.code == ErrorCode.READER_NOT_INSTALLED
    assert "uv sync --extra gpl" in error.value.message


def _ome_xml_samples() -> list[Path]:
    names = ("*.ome.tif*", "*.ome.xml", "*.companion.ome")
    return sorted(path for pattern in names for path in SAMPLES.rglob(pattern))


@pytest.mark.parametrize("path", _ome_xml_samples(), ids=lambda p: p.name)
def test_fast_ome_xml_path_agrees_with_ome_types(path: Path) -> None:
    """The ElementTree fast path fills the same fields as the full ome-types model."""
    if ".tif" in path.name:
        with tifffile.TiffFile(path) as tif:
            xml = tif.ome_metadata or ""
    else:
        xml = path.read_text()
    if "<BinaryOnly" in xml:
        pytest.skip("metadata lives in the companion file")
    fast = fill_from_ome_xml(ImageRecord(format="x", reader="", size_bytes=0), xml)
    full = fill_from_ome(
        ImageRecord(format="x", reader="", size_bytes=0), ome_types.from_xml(xml, validate=False)
    )
    assert fast.to_json() == full.to_json()


def test_preview_of_every_sample_image_or_a_reason() -> None:
    made, reasons = 0, []
    for unit in walk_units(SAMPLES):
        path = SAMPLES / unit.relative_path
        try:
            record = inspect_path(path)
        except InspectionError:
            continue
        try:
            png = render_preview(path, record.format)
        except PreviewError as exc:
            reasons.append((unit.relative_path, str(exc)))
            continue
        with Image.open(io.BytesIO(png)) as preview:
            assert max(preview.size) <= 256
            assert preview.mode == "RGB"
        made += 1
    assert made == 12  # every readable image file, the five fileset members included
    assert all("metadata only" in reason or "images only" in reason for _, reason in reasons)


def test_pixels_that_cannot_be_decoded_keep_metadata_and_explain(tmp_path: Path) -> None:
    path = tmp_path / "damaged.tif"
    tifffile.imwrite(path, np.arange(64 * 64, dtype=np.uint16).reshape(64, 64), compression="zlib")
    with tifffile.TiffFile(path) as tif:
        offset = tif.pages.first.dataoffsets[0]
    data = bytearray(path.read_bytes())
    data[offset : offset + 16] = b"\x00" * 16  # the header is intact, the compressed stream is not
    path.write_bytes(bytes(data))
    record = inspect_path(path)
    assert record.dims == {"Y": 64, "X": 64}
    with pytest.raises(PreviewError, match="The pixels could not be read"):
        render_preview(path, record.format)
