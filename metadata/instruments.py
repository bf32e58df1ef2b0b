"""The facility instrument registry: import from OME-XML Instrument blocks, and matching of
scanned files to registered microscopes."""

from __future__ import annotations

import xml.etree.ElementTree as ET  # types only; parsing goes through defusedxml
from typing import Any

from defusedxml import DefusedXmlException
from defusedxml.ElementTree import fromstring as parse_xml
from django.core.exceptions import ValidationError
from django.db import transaction

from metadata.imaging.ome import children_named, local_name
from metadata.models import Instrument
from projects.models import Facility

_LIGHT_SOURCES = ("Laser", "Arc", "Filament", "LightEmittingDiode", "GenericExcitationSource")


def _attrs(element: ET.Element, mapping: dict[str, str], numbers: tuple[str, ...] = ()) -> dict[str, Any]:
    """Selected attributes under our names, numbers as numbers, empty ones left out."""
    values: dict[str, Any] = {}
    for ours, theirs in mapping.items():
        raw = element.attrib.get(theirs)
        if raw in (None, ""):
            continue
        try:
            values[ours] = float(raw) if ours in numbers else raw
        except ValueError:
            continue
    return values


def instruments_from_ome_xml(xml: str) -> list[dict[str, Any]]:
    """The Instrument blocks of an OME-XML document as registry entries; raises ValidationError."""
    try:
        root = parse_xml(xml.encode())
    except (ET.ParseError, DefusedXmlException) as exc:
        raise ValidationError(f"This is not well-formed OME-XML: {exc}") from None
    if local_name(root.tag) != "OME":
        raise ValidationError("This XML is not OME-XML (its root element is not <OME>).")
    entries = []
    for index, instrument in enumerate(children_named(root, "Instrument"), start=1):
        scopes = children_named(instrument, "Microscope")
        scope = (
            _attrs(
                scopes[0],
                {
                    "manufacturer": "Manufacturer",
                    "model": "Model",
                    "serial_number": "SerialNumber",
                    "microscope_type": "Type",
                },
            )
            if scopes
            else {}
        )
        objectives = [
            _attrs(
                o,
                {
                    "model": "Model",
                    "manufacturer": "Manufacturer",
                    "magnification": "NominalMagnification",
                    "numerical_aperture": "LensNA",
                    "immersion": "Immersion",
                    "serial_number": "SerialNumber",
                },
                numbers=("magnification", "numerical_aperture"),
            )
            for o in children_named(instrument, "Objective")
        ]
        detectors = [
            _attrs(
                d,
                {
                    "model": "Model",
                    "manufacturer": "Manufacturer",
                    "type": "Type",
                    "serial_number": "SerialNumber",
                },
            )
            for d in children_named(instrument, "Detector")
        ]
        lights = [
            _attrs(source, {"model": "Model", "manufacturer": "Manufacturer"})
            | {"type": local_name(inner.tag)}
            | _attrs(inner, {"wavelength_nm": "Wavelength"}, numbers=("wavelength_nm",))
            for source in children_named(instrument, "LightSource")
            for inner in source
            if local_name(inner.tag) in _LIGHT_SOURCES
        ]
        # Schemas before 2012 put the light sources directly in the instrument.
        lights += [
            _attrs(source, {"model": "Model", "manufacturer": "Manufacturer"})
            | {"type": kind}
            | _attrs(source, {"wavelength_nm": "Wavelength"}, numbers=("wavelength_nm",))
            for kind in _LIGHT_SOURCES
            for source in children_named(instrument, kind)
        ]
        filters = [
            _attrs(
                f,
                {
                    "model": "Model",
                    "manufacturer": "Manufacturer",
                    "type": "Type",
                    "filter_wheel": "FilterWheel",
                },
            )
            for f in children_named(instrument, "Filter")
        ]
        label = " ".join(part for part in (scope.get("manufacturer"), scope.get("model")) if part)
        entries.append(
            {
                **scope,
                "name": label or instrument.attrib.get("ID") or f"Instrument {index}",
                "objectives": [o for o in objectives if o],
                "detectors": [d for d in detectors if d],
                "light_sources": lights,
                "filters": [f for f in filters if f],
            }
        )
    if not entries:
        raise ValidationError("This OME-XML describes no instrument (no <Instrument> element).")
    return entries


def _normalized(text: str | None) -> str:
    return " ".join((text or "").casefold().split())


def instrument_match(
    facility_id: int | None, microscope: dict[str, Any] | None
) -> tuple[Instrument | None, str]:
    """The registered instrument a file's microscope is, and how it was recognised."""
    if not facility_id or not microscope:
        return None, ""
    instruments = list(Instrument.objects.filter(facility=facility_id))
    serial = _normalized(microscope.get("serial_number"))
    if serial:
        for instrument in instruments:
            if _normalized(instrument.serial_number) == serial:
                return instrument, "serial number"
    wanted = (_normalized(microscope.get("manufacturer")), _normalized(microscope.get("model")))
    if any(wanted):
        for instrument in instruments:
            if (_normalized(instrument.manufacturer), _normalized(instrument.model)) == wanted:
                return instrument, "manufacturer and model"
    return None, ""


@transaction.atomic
def instruments_import(*, facility: Facility, xml: str) -> list[Instrument]:
    """Create, or update by serial number or name, the instruments an OME-XML document describes."""
    saved = []
    for entry in instruments_from_ome_xml(xml):
        existing = None
        if entry.get("serial_number"):
            existing = Instrument.objects.filter(
                facility=facility, serial_number=entry["serial_number"]
            ).first()
        existing = existing or Instrument.objects.filter(facility=facility, name=entry["name"]).first()
        instrument = existing or Instrument(facility=facility)
        for field, value in entry.items():
            setattr(instrument, field, value)
        instrument.full_clean()
        instrument.save()
        saved.append(instrument)
    return saved
