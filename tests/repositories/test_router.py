"""The repository router: a pure function from what people know to an archive and reasons."""

from __future__ import annotations

from repositories.models import Target
from repositories.router import Modality, recommend

GB = 1000**3


def advise(**changes: object) -> tuple[Target | None, dict[Target, bool], str]:
    inputs: dict[str, object] = {
        "modality": Modality.LIGHT,
        "total_bytes": 2 * GB,
        "is_screen": False,
        "is_reference": False,
        "licence": "CC-BY-4.0",
    }
    inputs.update(changes)
    advice = recommend(**inputs)  # type: ignore[arg-type]
    return advice.recommended, {o.target: o.suitable for o in advice.options}, " ".join(advice.reasons)


def test_data_behind_a_study_go_to_the_bioimage_archive() -> None:
    recommended, suitable, reasons = advise()
    assert recommended == Target.BIA
    assert suitable == {Target.BIA: True, Target.IDR: False, Target.ZENODO: True}
    assert "any biological image data behind a study" in reasons


def test_a_high_content_screen_goes_to_the_idr() -> None:
    recommended, suitable, reasons = advise(is_screen=True, total_bytes=800 * GB)
    assert recommended == Target.IDR
    assert "High-content screens are the IDR's speciality" in reasons
    assert suitable[Target.BIA] is True


def test_a_reference_dataset_goes_to_the_idr() -> None:
    recommended, _, reasons = advise(is_reference=True)
    assert recommended == Target.IDR
    assert "reference image datasets" in reasons


def test_60_gb_is_too_much_for_zenodo() -> None:
    advice = recommend(
        modality=Modality.OTHER, total_bytes=60 * GB, is_screen=False, is_reference=False, licence="CC-BY-4.0"
    )
    zenodo = next(o for o in advice.options if o.target == Target.ZENODO)
    assert zenodo.suitable is False
    assert zenodo.reasons == ["60 GB is more than Zenodo's limit of 50 GB per record."]
    assert advice.recommended == Target.BIA


def test_cryo_em_mentions_empiar() -> None:
    recommended, suitable, reasons = advise(modality=Modality.CRYO_EM, total_bytes=3000 * GB)
    assert "EMPIAR" in reasons
    assert "Electron Microscopy Public Image Archive" in reasons
    assert suitable[Target.IDR] is False
    assert recommended == Target.BIA


def test_a_non_commercial_licence_leaves_only_zenodo() -> None:
    recommended, suitable, reasons = advise(licence="CC-BY-NC-4.0")
    assert recommended == Target.ZENODO
    assert suitable == {Target.BIA: False, Target.IDR: False, Target.ZENODO: True}
    assert "DOI at once" in reasons


def test_nothing_fits_a_large_non_commercial_dataset() -> None:
    advice = recommend(
        modality=Modality.LIGHT,
        total_bytes=60 * GB,
        is_screen=False,
        is_reference=False,
        licence="CC-BY-NC-4.0",
    )
    assert advice.recommended is None
    assert any("choose CC0 or CC BY 4.0" in note for note in advice.notes)
    bia = next(o for o in advice.options if o.target == Target.BIA)
    assert bia.reasons == ["The BioImage Archive publishes under CC0 or CC BY 4.0, not CC-BY-NC-4.0."]


def test_many_small_files_are_zipped_for_zenodo() -> None:
    advice = recommend(
        modality=Modality.LIGHT,
        total_bytes=GB,
        file_count=250,
        is_screen=False,
        is_reference=False,
        licence="CC-BY-NC-4.0",
    )
    assert advice.recommended == Target.ZENODO
    assert "Zip the 250 files into at most 100 archives for Zenodo." in advice.reasons
