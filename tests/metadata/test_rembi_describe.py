"""Describing a scanned dataset with REMBI: prefilled forms, saving, reuse, stale edits, export."""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from pathlib import Path

import pytest
import rdflib
from rdflib.compare import isomorphic

from metadata import export, rembi
from metadata.models import Dataset, RembiRecord, ScanRun
from metadata.prefill import prefill_image_acquisition, prefill_image_data
from metadata.services import dataset_register
from projects.models import StorageRoot
from tests.conftest import World
from tests.metadata.rembi_corpus import examples


@pytest.fixture
def scanned(dataset: Dataset, scan_now: Callable[[Dataset], ScanRun], ontologies: None) -> Dataset:
    scan_now(dataset)
    dataset.refresh_from_db()
    return dataset


def _field(page: str, name: str) -> str:
    """The rendered form control of a field (its value attribute or text area content)."""
    match = re.search(rf'<(input|textarea|select)[^>]*name="{re.escape(name)}"[^>]*>([^<]*)', page)
    assert match is not None, f"no field {name}"
    return match.group(0)


def test_image_data_prefill_from_the_scan(scanned: Dataset) -> None:
    prefill = prefill_image_data(scanned)
    assert prefill.values["image_format"]["label"] == "OME-TIFF"  # the most common format
    assert prefill.values["file_count"] == scanned.file_count
    assert "of" in prefill.sources["image_format"]


def test_acquisition_prefill_names_instrument_and_objective(scanned: Dataset) -> None:
    prefill = prefill_image_acquisition(scanned)
    assert prefill.values["imaging_instrument_description"] == "OME Insturuments Lab Mk3"
    assert prefill.values["objective"].startswith("60xUV-Air")
    assert "from the scan" in prefill.sources["objective"]


def test_forms_open_prefilled_and_marked(world: World, scanned: Dataset) -> None:
    client = world.client("editor")
    page = client.get(f"/datasets/{scanned.pk}/describe/ImageAcquisition/").content.decode()
    assert "OME Insturuments Lab Mk3" in _field(page, "imaging_instrument_description")
    assert "from the scan" in page
    image_data = client.get(f"/datasets/{scanned.pk}/describe/ImageData/").content.decode()
    assert 'value="http://edamontology.org/format_3727"' in _field(image_data, "image_format")
    assert "OME-TIFF" in image_data


def test_shared_sample_forms_carry_pixel_sizes(world: World, shared_scanned: Dataset) -> None:
    """Must show: for ../shared/data/images the ImageData and ImageAcquisition forms open with
    pixel sizes and the instrument and objective where the files carry them."""
    client = world.client("editor")
    data_page = client.get(f"/datasets/{shared_scanned.pk}/describe/ImageData/").content.decode()
    assert re.search(r'value="0\.\d+"', _field(data_page, "voxel_size_x"))
    acquisition = client.get(f"/datasets/{shared_scanned.pk}/describe/ImageAcquisition/").content.decode()
    assert "Zeiss" in _field(acquisition, "imaging_instrument_description") or "Zeiss" in acquisition
    assert 'value="' in _field(acquisition, "objective")


def _post_study(client: object, dataset: Dataset, **extra: str) -> object:
    study = examples()["Study"]
    author = study["author"][0]
    data = {
        "title": study["title"],
        "description": study["description"],
        "keyword": "\n".join(study["keyword"]),
        "licence": study["licence"],
        "release_date": study["release_date"],
        "author-TOTAL_FORMS": "1",
        "author-INITIAL_FORMS": "0",
        "author-0-display_name": author["display_name"],
        "author-0-orcid": author["orcid"],
        "author-0-affiliation__display_name": "EMBL",
        "author-0-affiliation__rorid": "03mstc592",
        "grant-TOTAL_FORMS": "0",
        "grant-INITIAL_FORMS": "0",
        "related_publication-TOTAL_FORMS": "0",
        "related_publication-INITIAL_FORMS": "0",
        **extra,
    }
    return client.post(f"/datasets/{dataset.pk}/describe/Study/", data)  # type: ignore[attr-defined]


def test_saving_a_study_validates_and_reports(world: World, scanned: Dataset) -> None:
    response = _post_study(world.client("editor"), scanned)
    assert response.status_code == 302  # type: ignore[attr-defined]
    study = RembiRecord.objects.get(class_name="Study")
    assert study.data["author"][0]["affiliation"] == [{"display_name": "EMBL", "rorid": "03mstc592"}]
    assert study.data["keyword"] == examples()["Study"]["keyword"]
    report = {r.class_name: r for r in rembi.dataset_report(scanned)}
    assert report["Study"].errors == []
    assert report["Biosample"].errors[0].message.startswith("No Biosample is described yet")


def test_malformed_values_are_refused_with_the_field_named(world: World, scanned: Dataset) -> None:
    response = _post_study(
        world.client("editor"), scanned, release_date="30/06/2027", **{"author-0-orcid": "12"}
    )
    page = response.content.decode()  # type: ignore[attr-defined]
    assert response.status_code == 400  # type: ignore[attr-defined]
    assert "A calendar date, YYYY-MM-DD." in page
    assert "An ORCID iD without its URL prefix" in page
    assert not RembiRecord.objects.exists()


def test_an_error_only_in_a_nested_entry_is_refused_too(world: World, scanned: Dataset) -> None:
    """The study's own fields are fine; one author's ORCID iD is not: 400, the field named."""
    response = _post_study(world.client("editor"), scanned, **{"author-0-orcid": "0000-0002-1825"})
    page = response.content.decode()  # type: ignore[attr-defined]
    assert response.status_code == 400  # type: ignore[attr-defined]
    assert 'value="0000-0002-1825"' in page  # what they typed stays in the form
    assert "An ORCID iD without its URL prefix" in page
    assert not RembiRecord.objects.exists()


def test_a_stale_edit_is_refused_and_shows_both_versions(world: World, scanned: Dataset) -> None:
    _post_study(world.client("editor"), scanned)
    study = RembiRecord.objects.get(class_name="Study")
    _post_study(world.client("manager"), scanned, title="Changed by the manager", version=str(study.version))
    response = _post_study(
        world.client("editor"), scanned, title="Changed by the editor", version=str(study.version)
    )
    page = response.content.decode()  # type: ignore[attr-defined]
    assert response.status_code == 409  # type: ignore[attr-defined]
    assert "Changed by the manager" in page  # theirs, shown
    assert "Changed by the editor" in page  # ours, still in the form
    study.refresh_from_db()
    assert study.data["title"] == "Changed by the manager"


def test_viewers_and_strangers_cannot_write(world: World, scanned: Dataset) -> None:
    assert _post_study(world.client("viewer"), scanned).status_code == 403  # type: ignore[attr-defined]
    assert _post_study(world.client("outsider"), scanned).status_code == 404  # type: ignore[attr-defined]
    assert world.client("viewer").get(f"/datasets/{scanned.pk}/describe/").status_code == 200
    assert not RembiRecord.objects.exists()


def test_records_are_shared_between_datasets(
    world: World, scanned: Dataset, root: StorageRoot, samples: Path
) -> None:

    client = world.client("editor")
    client.post(
        f"/datasets/{scanned.pk}/describe/Biosample/",
        {
            "title": "Zebrafish larvae",
            "biological_entity_description": "neurons",
            "organism_classification-TOTAL_FORMS": "1",
            "organism_classification-INITIAL_FORMS": "0",
            "organism_classification-0-scientific_name": "Danio rerio",
            "organism_classification-0-ncbi_id": "http://purl.obolibrary.org/obo/NCBITaxon_7955",
        },
    )
    biosample = RembiRecord.objects.get(class_name="Biosample")
    assert biosample.data["organism_classification"][0]["ncbi_id"] == "NCBITaxon:7955"
    other = dataset_register(
        project=world.project, user=None, storage_root=root, relative_path="samples/nd2", title="ND2"
    )
    page = client.get(f"/datasets/{other.pk}/describe/Biosample/").content.decode()
    assert "Zebrafish larvae" in page  # offered for reuse
    client.post(f"/datasets/{other.pk}/describe/Biosample/use/", {"record": biosample.pk})
    assert set(biosample.datasets.all()) == {scanned, other}


def test_json_ld_and_turtle_exports_give_the_same_triples(world: World, scanned: Dataset) -> None:
    _post_study(world.client("editor"), scanned)
    client = world.client("viewer")
    jsonld_body = client.get(f"/datasets/{scanned.pk}/rembi.jsonld").content.decode()
    turtle_body = client.get(f"/datasets/{scanned.pk}/rembi.ttl").content.decode()
    from_jsonld = rdflib.Graph().parse(data=jsonld_body, format="json-ld")
    from_turtle = rdflib.Graph().parse(data=turtle_body, format="turtle")
    assert len(from_jsonld) > 10
    assert isomorphic(from_jsonld, from_turtle)
    orcid = rdflib.URIRef("http://bia/orcid")
    assert {str(o) for o in from_jsonld.objects(None, orcid)} == {"0000-0002-1825-0097"}
    assert json.loads(jsonld_body)["@context"]["@vocab"] == "https://w3id.org/fairlight/rembi/"
    assert export.dataset_jsonld(scanned) == json.loads(jsonld_body)


def test_rembi_api_and_schema_org_markup(world: World, scanned: Dataset) -> None:
    _post_study(world.client("editor"), scanned)
    api = world.api("viewer")
    document = api.get(f"/api/v1/datasets/{scanned.pk}/rembi/")
    assert document["Content-Type"] == "application/ld+json"
    assert json.loads(document.content)["@graph"][0]["@type"] == "Study"
    turtle = api.get(f"/api/v1/datasets/{scanned.pk}/rembi/?as=turtle")
    assert rdflib.Graph().parse(data=turtle.content.decode(), format="turtle")
    assert api.get(f"/api/v1/datasets/{scanned.pk}/rembi/?as=xml").status_code == 400
    assert world.api("outsider").get(f"/api/v1/datasets/{scanned.pk}/rembi/").status_code == 404
    page = world.client("viewer").get(f"/datasets/{scanned.pk}/").content.decode()
    embedded = re.search(r'<script type="application/ld\+json"[^>]*>(.*?)</script>', page, re.S)
    assert embedded is not None
    markup = json.loads(embedded.group(1))
    assert markup["@type"] == "Dataset"
    assert markup["license"] == "https://spdx.org/licenses/CC-BY-4.0"
    assert markup["creator"][0]["identifier"] == "https://orcid.org/0000-0002-1825-0097"
