"""Summarising OME metadata (from any source) into an ImageRecord."""

from __future__ import annotations

from typing import Any

import ome_types
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


def parse_ome_xml(xml: str) -> model.OME:
    # Validation against the XSD is slow and rejects files that real instruments
    # write; the fields we read are typed by ome-types either way.
    return ome_types.from_xml(xml, validate=False)


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
    return Microscope(manufacturer=scope.manufacturer, model=scope.model, type=_enum(scope.type))


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
