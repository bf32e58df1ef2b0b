"""Summarising OME metadata (from any source) into an ImageRecord."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from datetime import datetime
from typing import Any

from defusedxml import DefusedXmlException
from defusedxml.ElementTree import fromstring as parse_xml
from ome_types import model

from metadata.imaging.records import Channel, Detector, ImageRecord, Microscope, Objective

# Factors to micrometres for the length units OME allows on pixel sizes.
_TO_UM = {
    "pm": 1e-6,
    "Å": 1e-4,
    "nm": 1e-3,
    "µm": 1.0,
    "um": 1.0,
    "mm": 1e3,
    "cm": 1e4,
    "m": 1e6,
}
_TO_NM = {"pm": 1e-3, "Å": 0.1, "nm": 1.0, "µm": 1e3, "um": 1e3, "mm": 1e6, "m": 1e9}
_TO_S = {"ns": 1e-9, "µs": 1e-6, "us": 1e-6, "ms": 1e-3, "s": 1.0, "min": 60.0, "h": 3600.0}


def _unit(value: Any) -> str:
    return str(getattr(value, "value", value))


def _length_um(size: float | None, unit: Any) -> float | None:
    if size is None:
        return None
    factor = _TO_UM.get(_unit(unit))
    return None if factor is None else size * factor


def _wavelength_nm(size: float | None, unit: Any) -> float | None:
    if size is None:
        return None
    factor = _TO_NM.get(_unit(unit))
    return None if factor is None else round(size * factor, 3)


def _enum(value: Any) -> str | None:
    if value is None:
        return None
    return str(getattr(value, "value", value)) or None


def _instrument(ome: model.OME, image: model.Image) -> model.Instrument | None:
    ref = image.instrument_ref.id if image.instrument_ref else None
    for instrument in ome.instruments:
        if ref is None or instrument.id == ref:
            return instrument
    return None


def _objective(instrument: model.Instrument | None, image: model.Image) -> Objective | None:
    if instrument is None or not instrument.objectives:
        return None
    ref = image.objective_settings.id if image.objective_settings else None
    chosen = next((o for o in instrument.objectives if o.id == ref), instrument.objectives[0])
    return Objective(
        model=chosen.model,
        manufacturer=chosen.manufacturer,
        magnification=chosen.nominal_magnification,
        numerical_aperture=chosen.lens_na,
        immersion=_enum(chosen.immersion),
    )


def _detector(instrument: model.Instrument | None) -> Detector | None:
    if instrument is None or not instrument.detectors:
        return None
    first = instrument.detectors[0]
    return Detector(model=first.model, manufacturer=first.manufacturer, type=_enum(first.type))


def _microscope(instrument: model.Instrument | None) -> Microscope | None:
    if instrument is None or instrument.microscope is None:
        return None
    scope = instrument.microscope
    if not (scope.manufacturer or scope.model):
        return None
    return Microscope(
        manufacturer=scope.manufacturer,
        model=scope.model,
        type=_enum(scope.type),
        serial_number=scope.serial_number,
    )


def _channels(pixels: model.Pixels) -> list[Channel]:
    return [
        Channel(
            name=channel.name,
            excitation_nm=_wavelength_nm(channel.excitation_wavelength, channel.excitation_wavelength_unit),
            emission_nm=_wavelength_nm(channel.emission_wavelength, channel.emission_wavelength_unit),
            fluor=channel.fluor,
            contrast_method=_enum(channel.contrast_method),
            illumination=_enum(channel.illumination_type),
        )
        for channel in pixels.channels
    ]


def fill_from_ome(record: ImageRecord, ome: model.OME, *, dims_from_ome: bool = True) -> ImageRecord:
    """Copy what OME says about the first image into ``record``."""
    record.image_count = len(ome.images) or record.image_count
    record.scene_names = [image.name or image.id for image in ome.images]
    if not ome.images:
        return record
    image = ome.images[0]
    pixels = image.pixels
    if dims_from_ome:
        order = _enum(pixels.dimension_order) or "XYZCT"
        sizes = {
            "X": pixels.size_x,
            "Y": pixels.size_y,
            "Z": pixels.size_z,
            "C": pixels.size_c,
            "T": pixels.size_t,
        }
        record.dimension_order = order[::-1]  # OME lists the fastest axis first
        record.dims = {axis: sizes[axis] for axis in record.dimension_order}
        record.dtype = _enum(pixels.type)
    sizes_um = {
        "x": _length_um(pixels.physical_size_x, pixels.physical_size_x_unit),
        "y": _length_um(pixels.physical_size_y, pixels.physical_size_y_unit),
        "z": _length_um(pixels.physical_size_z, pixels.physical_size_z_unit),
    }
    record.pixel_size_um = {axis: value for axis, value in sizes_um.items() if value}
    if pixels.time_increment is not None:
        factor = _TO_S.get(_unit(pixels.time_increment_unit))
        record.time_increment_s = pixels.time_increment * factor if factor else None
    record.channels = _channels(pixels)
    instrument = _instrument(ome, image)
    record.objective = _objective(instrument, image)
    record.detector = _detector(instrument)
    record.microscope = _microscope(instrument)
    if image.acquisition_date is not None:
        record.acquired_at = image.acquisition_date.isoformat()
    return record


# --- Fast path for OME-XML text --------------------------------------------------------------
# ome-types builds a full pydantic model (about 5 ms per OME-TIFF header); the scanner needs a
# few dozen attributes, which ElementTree reads in a tenth of that. Both paths fill the same
# ImageRecord; tests check they agree on every sample file.


def local_name(tag: str) -> str:
    return tag.rsplit("}", 1)[-1]


def children_named(element: ET.Element, name: str) -> list[ET.Element]:
    return [child for child in element if local_name(child.tag) == name]


def child_named(element: ET.Element | None, name: str) -> ET.Element | None:
    if element is None:
        return None
    return next((child for child in element if local_name(child.tag) == name), None)


def _float(element: ET.Element | None, attribute: str) -> float | None:
    if element is None or attribute not in element.attrib:
        return None
    try:
        return float(element.attrib[attribute])
    except ValueError:
        return None


def _text_attr(element: ET.Element | None, attribute: str) -> str | None:
    if element is None:
        return None
    return element.attrib.get(attribute) or None


class OmeXmlError(ValueError):
    """OME-XML text that is not well-formed or has no OME root."""


def fill_from_ome_xml(record: ImageRecord, xml: str) -> ImageRecord:
    """Fill ``record`` from OME-XML text, like fill_from_ome but without building the model."""
    try:
        root = parse_xml(xml.encode())
    except (ET.ParseError, DefusedXmlException) as exc:
        raise OmeXmlError(str(exc)) from None
    if local_name(root.tag) != "OME":
        raise OmeXmlError(f"the root element is <{local_name(root.tag)}>, not <OME>")
    images = children_named(root, "Image")
    record.image_count = len(images) or record.image_count
    record.scene_names = [image.attrib.get("Name") or image.attrib.get("ID", "") for image in images]
    if not images:
        return record
    image = images[0]
    pixels = child_named(image, "Pixels")
    if pixels is None:
        raise OmeXmlError("the first Image has no Pixels element")
    order = pixels.attrib.get("DimensionOrder", "XYZCT")
    sizes = {axis: int(pixels.attrib.get(f"Size{axis}", "1")) for axis in "XYZCT"}
    record.dimension_order = order[::-1]  # OME lists the fastest axis first
    record.dims = {axis: sizes[axis] for axis in record.dimension_order}
    record.dtype = pixels.attrib.get("Type")
    sizes_um = {
        axis.lower(): _length_um(
            _float(pixels, f"PhysicalSize{axis}"), pixels.attrib.get(f"PhysicalSize{axis}Unit", "µm")
        )
        for axis in "XYZ"
    }
    record.pixel_size_um = {axis: value for axis, value in sizes_um.items() if value}
    increment = _float(pixels, "TimeIncrement")
    if increment is not None:
        factor = _TO_S.get(pixels.attrib.get("TimeIncrementUnit", "s"))
        record.time_increment_s = increment * factor if factor else None
    record.channels = [
        Channel(
            name=channel.attrib.get("Name"),
            excitation_nm=_wavelength_nm(
                _float(channel, "ExcitationWavelength"), channel.attrib.get("ExcitationWavelengthUnit", "nm")
            ),
            emission_nm=_wavelength_nm(
                _float(channel, "EmissionWavelength"), channel.attrib.get("EmissionWavelengthUnit", "nm")
            ),
            fluor=channel.attrib.get("Fluor"),
            contrast_method=channel.attrib.get("ContrastMethod"),
            illumination=channel.attrib.get("IlluminationType"),
        )
        for channel in children_named(pixels, "Channel")
    ]
    instrument = _xml_instrument(root, image)
    record.objective = _xml_objective(instrument, image)
    detector = child_named(instrument, "Detector")
    record.detector = (
        Detector(
            model=_text_attr(detector, "Model"),
            manufacturer=_text_attr(detector, "Manufacturer"),
            type=_text_attr(detector, "Type"),
        )
        if detector is not None
        else None
    )
    scope = child_named(instrument, "Microscope")
    if scope is not None and (scope.attrib.get("Manufacturer") or scope.attrib.get("Model")):
        record.microscope = Microscope(
            manufacturer=_text_attr(scope, "Manufacturer"),
            model=_text_attr(scope, "Model"),
            type=_text_attr(scope, "Type"),
            serial_number=_text_attr(scope, "SerialNumber"),
        )
    # Schemas before 2012 call it AcquiredDate.
    acquired = child_named(image, "AcquisitionDate")
    if acquired is None:
        acquired = child_named(image, "AcquiredDate")
    if acquired is not None and acquired.text:
        record.acquired_at = _iso_datetime(acquired.text.strip())
    return record


def _xml_instrument(root: ET.Element, image: ET.Element) -> ET.Element | None:
    ref = child_named(image, "InstrumentRef")
    wanted = ref.attrib.get("ID") if ref is not None else None
    for instrument in children_named(root, "Instrument"):
        if wanted is None or instrument.attrib.get("ID") == wanted:
            return instrument
    return None


def _xml_objective(instrument: ET.Element | None, image: ET.Element) -> Objective | None:
    objectives = children_named(instrument, "Objective") if instrument is not None else []
    if not objectives:
        return None
    settings = child_named(image, "ObjectiveSettings")
    wanted = settings.attrib.get("ID") if settings is not None else None
    chosen = next((o for o in objectives if o.attrib.get("ID") == wanted), objectives[0])
    return Objective(
        model=_text_attr(chosen, "Model"),
        manufacturer=_text_attr(chosen, "Manufacturer"),
        magnification=_float(chosen, "NominalMagnification"),
        numerical_aperture=_float(chosen, "LensNA"),
        immersion=_text_attr(chosen, "Immersion"),
    )


def _iso_datetime(text: str) -> str | None:
    try:
        return datetime.fromisoformat(text.replace("Z", "+00:00")).isoformat()
    except ValueError:
        return None


def binary_only_metadata_file(xml: str) -> str | None:
    """The companion file named by a <BinaryOnly> block (one file of a multi-file fileset)."""
    try:
        root = parse_xml(xml.encode())
    except (ET.ParseError, DefusedXmlException):
        return None
    block = child_named(root, "BinaryOnly")
    return block.attrib.get("MetadataFile") if block is not None else None


def companion_files(xml: str) -> list[str]:
    """The TIFF files a companion OME-XML file points at."""
    root = parse_xml(xml.encode())
    return sorted(
        {
            element.attrib["FileName"]
            for element in root.iter()
            if local_name(element.tag) == "UUID" and element.attrib.get("FileName")
        }
    )


def plate_summary(xml: str) -> tuple[int, int]:
    """(plates, wells) described by OME-XML text."""
    root = parse_xml(xml.encode())
    plates = children_named(root, "Plate")
    return len(plates), sum(len(children_named(plate, "Well")) for plate in plates)
