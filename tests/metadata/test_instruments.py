"""The facility instrument registry: OME-XML import, matching scanned files, prefill, access."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile

from metadata.instruments import instrument_match, instruments_from_ome_xml, instruments_import
from metadata.models import Dataset, Instrument, ScanRun
from metadata.prefill import prefill_image_acquisition
from tests.conftest import ALL_USERS, World
from tests.metadata.conftest import SAMPLES
from tests.projects.test_access_matrix import outcome

INSTRUMENT_XML = (SAMPLES / "ome-xml/instrument.ome.xml").read_text()


def test_ome_xml_instrument_block_is_read() -> None:
    [entry] = instruments_from_ome_xml(INSTRUMENT_XML)
    assert (entry["manufacturer"], entry["model"], entry["serial_number"]) == (
        "OME Insturuments",
        "Lab Mk3",
        "L3-1234",
    )
    assert entry["objectives"][0] == {
        "model": "60xUV-Air",
        "manufacturer": "OME Objectives",
        "magnification": 60.0,
        "numerical_aperture": 1.2,
        "immersion": "Air",
    }
    assert [d["type"] for d in entry["detectors"]] == ["CCD"]
    assert {light["type"] for light in entry["light_sources"]} == {"Laser", "Arc"}


@pytest.mark.parametrize(
    ("xml", "message"),
    [
        ("<OME><Instrument", "not well-formed"),
        ("<Image/>", "not OME-XML"),
        ('<OME xmlns="http://www.openmicroscopy.org/Schemas/OME/2016-06"/>', "describes no instrument"),
        ('<!DOCTYPE x [<!ENTITY a "aaaa">]><OME>&a;</OME>', "not well-formed"),
    ],
)
def test_bad_ome_xml_is_refused(xml: str, message: str) -> None:
    with pytest.raises(ValidationError, match=message):
        instruments_from_ome_xml(xml)


def test_import_is_idempotent_and_matching_uses_serial_then_model(world: World) -> None:
    instruments_import(facility=world.facility, xml=INSTRUMENT_XML)
    instruments_import(facility=world.facility, xml=INSTRUMENT_XML)
    instrument = Instrument.objects.get()
    assert instrument_match(world.facility.pk, {"serial_number": " l3-1234 "}) == (
        instrument,
        "serial number",
    )
    assert instrument_match(world.facility.pk, {"manufacturer": "OME insturuments", "model": "Lab  Mk3"}) == (
        instrument,
        "manufacturer and model",
    )
    assert instrument_match(world.facility.pk, {"manufacturer": "Zeiss", "model": "LSM 980"}) == (None, "")
    assert instrument_match(None, {"serial_number": "L3-1234"}) == (None, "")


def test_acquisition_prefill_uses_the_registry(
    world: World, dataset: Dataset, scan_now: Callable[[Dataset], ScanRun]
) -> None:
    scan_now(dataset)
    Instrument.objects.create(
        facility=world.facility,
        name="Widefield 1 (room 2.14)",
        manufacturer="OME Insturuments",
        model="Lab Mk3",
        description="incubation chamber at 28 °C",
        objectives=[
            {"model": "60xUV-Air", "magnification": 60, "numerical_aperture": 1.2, "immersion": "Air"}
        ],
        detectors=[{"manufacturer": "Hamamatsu", "model": "ORCA-Fusion", "type": "sCMOS"}],
    )
    dataset.refresh_from_db()
    prefill = prefill_image_acquisition(dataset)
    assert prefill.values["imaging_instrument_description"] == (
        "OME Insturuments Lab Mk3 (Widefield 1 (room 2.14)); incubation chamber at 28 °C"
    )
    assert prefill.values["detector"] == "Hamamatsu ORCA-Fusion sCMOS"
    assert prefill.sources["objective"].startswith(
        "from the facility's instrument registry, matched by manufacturer"
    )


@pytest.mark.parametrize("who", ALL_USERS)
def test_only_stewards_manage_instruments(world: World, who: str) -> None:
    client = world.client(who)
    upload = SimpleUploadedFile("instrument.ome.xml", INSTRUMENT_XML.encode())
    response = client.post(f"/datasets/instruments/{world.facility.pk}/import/", {"ome_xml": upload})
    expected = {"steward": 302, "anonymous": "login"}.get(who, 404)
    assert outcome(response) == expected
    assert Instrument.objects.exists() == (who == "steward")
    listing = client.get("/datasets/instruments/")
    if who not in ("anonymous", "outsider"):
        assert ("OME Insturuments Lab Mk3" in listing.content.decode()) == (who == "steward")


def test_steward_edits_parts_in_the_web_form(world: World) -> None:
    client = world.client("steward")
    response = client.post(
        f"/datasets/instruments/{world.facility.pk}/new/",
        {
            "name": "Spinning disk",
            "manufacturer": "Nikon",
            "model": "Ti2 CSU-W1",
            "objectives-TOTAL_FORMS": "1",
            "objectives-INITIAL_FORMS": "0",
            "objectives-0-model": "Plan Apo λ 60x",
            "objectives-0-numerical_aperture": "1.4",
            "objectives-0-immersion": "oil",
            "detectors-TOTAL_FORMS": "0",
            "detectors-INITIAL_FORMS": "0",
            "light_sources-TOTAL_FORMS": "1",
            "light_sources-INITIAL_FORMS": "0",
            "light_sources-0-type": "Laser",
            "light_sources-0-wavelength_nm": "488",
            "filters-TOTAL_FORMS": "0",
            "filters-INITIAL_FORMS": "0",
        },
    )
    assert response.status_code == 302
    instrument = Instrument.objects.get(name="Spinning disk")
    assert instrument.objectives == [
        {"model": "Plan Apo λ 60x", "numerical_aperture": 1.4, "immersion": "oil"}
    ]
    assert instrument.light_sources == [{"type": "Laser", "wavelength_nm": 488.0}]
    bad = client.post(
        f"/datasets/instruments/{world.facility.pk}/{instrument.pk}/",
        {
            "name": "Spinning disk",
            "objectives-TOTAL_FORMS": "1",
            "objectives-INITIAL_FORMS": "0",
            "objectives-0-numerical_aperture": "9",
            **{
                f"{kind}-{key}": "0"
                for kind in ("detectors", "light_sources", "filters")
                for key in ("TOTAL_FORMS", "INITIAL_FORMS")
            },
        },
    )
    assert bad.status_code == 400
    assert "Ensure this value is less than or equal to 2" in bad.content.decode()
