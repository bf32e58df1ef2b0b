"""IDR submission files: the checker against real IDR studies and templates, the writer, round trips.

The real studies (idr0025, a screen; idr0032, an experiment) and IDR's curation templates are read,
whole, from ../shared/data/idr (IDR's metadata repositories carry no licence, so they are not copied
into this repository); the tests change copies in tmp_path only and skip when the folder is absent.
"""

from __future__ import annotations

import csv
import re
import shutil
from collections.abc import Callable
from datetime import date
from functools import cache
from pathlib import Path, PurePosixPath

import ome_types
import pytest

from metadata.imaging import inspect_path, walk_units
from repositories.idr.checker import CheckReport, Finding, check_study_folder
from repositories.idr.identifiers import licence_id, orcid_problem
from repositories.idr.model import (
    AssayImage,
    Characteristic,
    Contact,
    Experiment,
    IdrStudy,
    Plate,
    Protocol,
    Publication,
    Screen,
    Term,
    Well,
    component_folder,
    component_number,
)
from repositories.idr.reader import read_study
from repositories.idr.writer import IdrWriteError, write_study

SAMPLES = Path(__file__).resolve().parents[2] / "sample_data" / "images"
SHARED = Path(__file__).resolve().parents[3] / "shared" / "data" / "idr"


def shared_idr() -> Path:
    """The real IDR studies and templates, read from ../shared: IDR's metadata repositories carry
    no licence, so FAIRlight does not redistribute them. CI has them."""
    if not SHARED.is_dir():
        pytest.skip("../shared/data/idr (real IDR studies, not redistributable) is not beside this checkout")
    return SHARED


SCREEN = "idr0025-stadler-proteinatlas"
EXPERIMENT = "idr0032-yang-meristem"
UPLOAD_ROOT = "/uod/idr/filesets/idr0000-fairlight-samples/20260101-upload"

HOMO_SAPIENS = Term("Homo sapiens", "NCBITaxon", "NCBITaxon_9606")
FLUORESCENCE = Term("fluorescence microscopy", "FBbi", "FBbi_00000246")


def copy_study(tmp_path: Path, name: str) -> Path:
    """A copy of a test study with IDR's shared bulk.yml two folders up, where its bulk files look."""
    shutil.copy(shared_idr() / "bulk.yml", tmp_path / "bulk.yml")
    return Path(shutil.copytree(shared_idr() / name, tmp_path / name))


def study_file(folder: Path) -> Path:
    return next(folder.glob("idr*-study.txt"))


def edit_line(path: Path, key: str, replacement: str | None) -> None:
    """Replace (or with None, delete) the first line of a tab-separated file whose first cell is ``key``."""
    lines = path.read_text(encoding="utf-8").splitlines(keepends=True)
    index = next(i for i, line in enumerate(lines) if line.split("\t")[0] == key)
    if replacement is None:
        del lines[index]
    else:
        lines[index] = replacement + "\n"
    path.write_text("".join(lines), encoding="utf-8")


def line_of(path: Path, key: str) -> int:
    """The number of the first line of a tab-separated file whose first cell is ``key``."""
    lines = path.read_text(encoding="utf-8").splitlines()
    return next(number for number, line in enumerate(lines, start=1) if line.split("\t")[0] == key)


def errors_for(report: CheckReport, key: str) -> list[Finding]:
    return [finding for finding in report.errors if finding.key == key]


def describe(report: CheckReport) -> str:
    return "\n".join(str(finding) for finding in report.findings)


# -- the real studies and the templates pass ----------------------------------------------------


@pytest.mark.parametrize("name", [SCREEN, EXPERIMENT])
def test_real_studies_have_no_errors(tmp_path: Path, name: str) -> None:
    report = check_study_folder(copy_study(tmp_path, name))
    assert report.ok, describe(report)


def test_real_study_warnings_name_what_curators_would_fix(tmp_path: Path) -> None:
    report = check_study_folder(copy_study(tmp_path, EXPERIMENT))
    messages = describe(report)
    # idr0032 predates the licence rows, names its assays file without the "s" and uses PO undeclared.
    assert "[Study License]: is not given" in messages
    assert "names idr0032-experimentA-assay.txt, which is not in experimentA/" in messages
    assert "uses the Term Source PO, which the study file does not declare" in messages
    assert len(report.warnings) == 4


def template_study(tmp_path: Path, kind: str) -> Path:
    """IDR's example study set up as its README says: rename the chosen study file to
    idr0000-study.txt, and call the first experiment experimentA when there is no screen."""
    folder = Path(
        shutil.copytree(
            shared_idr() / "templates" / "idr0000-lastname-example", tmp_path / "idr0000-lastname-example"
        )
    )
    keep, drop = ("HCS", "nonHCS") if kind == "HCS" else ("nonHCS", "HCS")
    (folder / f"idr0000-study_{drop}.txt").unlink()
    (folder / f"idr0000-study_{keep}.txt").rename(folder / "idr0000-study.txt")
    if kind == "HCS":
        shutil.rmtree(folder / "experimentB")
    else:
        shutil.rmtree(folder / "screenA")
        (folder / "experimentB").rename(folder / "experimentA")
        for path in (folder / "experimentA").iterdir():
            path.rename(path.with_name(path.name.replace("experimentB", "experimentA")))
    return folder


@pytest.mark.parametrize("kind", ["HCS", "nonHCS"])
def test_templates_pass_as_drafts(tmp_path: Path, kind: str) -> None:
    report = check_study_folder(template_study(tmp_path, kind), draft=True)
    assert report.ok, describe(report)
    assert any("still holds the template's hint" in finding.message for finding in report.warnings)


@pytest.mark.parametrize(
    ("kind", "missing"),
    [
        (
            "HCS",
            {
                "Study Title",
                "Study Description",
                "Study Public Release Date",
                "Screen Number",
                "Comment[IDR Screen Name]",
                "Screen Description",
                "Screen Sample Type",
                "Screen Type",
                "Screen Imaging Method",
                "Study Screens Number",
                "Study Organism",
            },
        ),
        (
            "nonHCS",
            {
                "Study Title",
                "Study Type",
                "Study Description",
                "Study Public Release Date",
                "Experiment Number",
                "Comment[IDR Experiment Name]",
                "Experiment Description",
                "Experiment Sample Type",
                "Experiment Imaging Method",
                "Study Experiments Number",
            },
        ),
    ],
)
def test_unfilled_templates_fail_naming_every_required_value(
    tmp_path: Path, kind: str, missing: set[str]
) -> None:
    report = check_study_folder(template_study(tmp_path, kind))
    assert missing <= {finding.key for finding in report.errors}, describe(report)


def test_template_as_shipped_has_no_single_study_file(tmp_path: Path) -> None:
    folder = Path(shutil.copytree(shared_idr() / "templates" / "idr0000-lastname-example", tmp_path / "t"))
    report = check_study_folder(folder)
    assert [str(finding) for finding in report.errors] == [
        "error: .: has no study file named idrNNNN-study.txt "
        "(found: idr0000-study_HCS.txt, idr0000-study_nonHCS.txt)"
    ]


# -- one required key removed from a real study is an error naming it ---------------------------

STUDY_REQUIRED = [
    "Comment[IDR Study Accession]",
    "Study Title",
    "Study Description",
    "Study Type",
    "Study Public Release Date",
    "Study Publication Title",
    "Study Author List",
    "Study Organism",
]


@pytest.mark.parametrize(
    ("name", "key"),
    [(SCREEN, key) for key in STUDY_REQUIRED]
    + [(EXPERIMENT, key) for key in STUDY_REQUIRED]
    + [
        (SCREEN, key)
        for key in (
            "Screen Number",
            "Comment[IDR Screen Name]",
            "Screen Description",
            "Screen Sample Type",
            "Screen Imaging Method",
            "Screen Type",
            "Study Screens Number",
        )
    ]
    + [
        (EXPERIMENT, key)
        for key in (
            "Experiment Number",
            "Comment[IDR Experiment Name]",
            "Experiment Description",
            "Experiment Sample Type",
            "Experiment Imaging Method",
            "Study Experiments Number",
        )
    ],
)
def test_removing_a_required_key_is_an_error(tmp_path: Path, name: str, key: str) -> None:
    folder = copy_study(tmp_path, name)
    edit_line(study_file(folder), key, None)
    report = check_study_folder(folder)
    assert any(finding.key == key or key in finding.message for finding in report.errors), describe(report)


def test_a_blank_required_value_is_an_error(tmp_path: Path) -> None:
    folder = copy_study(tmp_path, EXPERIMENT)
    line = line_of(study_file(folder), "Study Title")
    edit_line(study_file(folder), "Study Title", "Study Title\t\t\t")
    [finding] = errors_for(check_study_folder(folder), "Study Title")
    assert (finding.file, finding.line, finding.message) == (
        "idr0032-study.txt",
        line,
        "is empty; IDR requires a value",
    )


# -- specific errors on mutated copies ----------------------------------------------------------


def test_undeclared_term_source_in_the_study_file(tmp_path: Path) -> None:
    folder = copy_study(tmp_path, SCREEN)
    names = "Term Source Name\tNCBITaxon\tEFO\tFBbi"  # CMPO dropped; the phenotypes still use it
    uris = "Term Source URI\thttp://purl.obolibrary.org/obo/\thttp://www.ebi.ac.uk/efo/\thttp://purl.obolibrary.org/obo/"
    edit_line(study_file(folder), "Term Source Name", names)
    edit_line(study_file(folder), "Term Source URI", uris)
    [finding] = errors_for(check_study_folder(folder), "Phenotype Term Source REF")
    assert finding.message == "uses the Term Source CMPO, which the 'Term Source Name' row does not declare"


def test_term_source_without_uri(tmp_path: Path) -> None:
    folder = copy_study(tmp_path, EXPERIMENT)
    edit_line(study_file(folder), "Term Source URI", "Term Source URI\thttp://purl.obolibrary.org/obo/")
    messages = {finding.message for finding in errors_for(check_study_folder(folder), "Term Source URI")}
    assert messages == {f"gives no URI for the Term Source {name}" for name in ("EFO", "CMPO", "Fbbi", "OBI")}


def test_unknown_term_source_in_the_assays_file(tmp_path: Path) -> None:
    folder = copy_study(tmp_path, EXPERIMENT)
    assays = folder / "experimentA" / "idr0032-experimentA-assays.txt"
    assays.write_text(assays.read_text().replace("\tNCBITaxon\t", "\tMadeUpOntology\t"))
    [finding] = errors_for(check_study_folder(folder), "Term Source 1 REF")
    assert (finding.file, finding.line) == ("experimentA/idr0032-experimentA-assays.txt", 2)
    assert (
        "MadeUpOntology, which the study file does not declare and which is not an ontology"
        in finding.message
    )


@pytest.mark.parametrize(
    ("row", "expected"),
    [
        ("Dataset:name:AT1G02720", "has 1 tab-separated columns but needs 2 (target, path)"),
        (
            "Datasets:name:AT1G02720\t/uod/idr/filesets/x/1.tif",
            "'Datasets:name:AT1G02720' is not an import target",
        ),
        (
            "Dataset:name:AT1G02720\tPictures/missing.tif",
            "'Pictures/missing.tif' is a relative path that does not exist from this folder",
        ),
        ("Dataset:name:AT1G02720\t/uod/idr/filesets/../1.tif", "contains '..'"),
        (
            "Dataset:name:AT1G02720\t/uod/idr/filesets/idr0032-yang-meristem/20161104-original/"
            "Pictures of all GTs/AT1G02720/1.tif",
            "imports /uod/idr/filesets/idr0032-yang-meristem/20161104-original/Pictures of all "
            "GTs/AT1G02720/1.tif a second time (first on line 1)",
        ),
        (
            "Dataset:name:AT1G02720\t/somewhere/else/1.tif",
            "gives a second image the name 1.tif in the dataset AT1G02720 (first on line 1)",
        ),
    ],
)
def test_broken_file_paths_rows(tmp_path: Path, row: str, expected: str) -> None:
    folder = copy_study(tmp_path, EXPERIMENT)
    file_paths = folder / "experimentA" / "idr0032-experimentA-filePaths.tsv"
    text = file_paths.read_text(encoding="utf-8")
    appended_line = len(text.splitlines()) + 1
    with file_paths.open("a", encoding="utf-8") as handle:
        handle.write(("" if text.endswith("\n") else "\n") + row + "\n")
    report = check_study_folder(folder)
    [finding] = report.errors
    assert finding.file == "experimentA/idr0032-experimentA-filePaths.tsv"
    assert finding.line == appended_line
    assert expected in finding.message


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("0000-0002-1825-0098", "has a wrong check digit: the last character should be 7, so it is mistyped"),
        ("0000-0002-1825", "is not an ORCID iD"),
    ],
)
def test_bad_orcid(tmp_path: Path, value: str, message: str) -> None:
    folder = copy_study(tmp_path, EXPERIMENT)
    edit_line(
        study_file(folder),
        "Study Person Roles",
        f"Study Person ORCID\t{value}\nStudy Person Roles\tsubmitter",
    )
    [finding] = errors_for(check_study_folder(folder), "Study Person ORCID")
    assert finding.message.startswith(f"'{value}' {message}")


def test_good_orcid_passes(tmp_path: Path) -> None:
    folder = copy_study(tmp_path, EXPERIMENT)
    edit_line(
        study_file(folder),
        "Study Person Roles",
        "Study Person ORCID\thttps://orcid.org/0000-0002-1825-0097\nStudy Person Roles\tsubmitter",
    )
    assert check_study_folder(folder).ok


def test_orcid_check_digit_x() -> None:
    assert orcid_problem("0000-0002-1694-233X") is None
    assert orcid_problem("0000-0002-1694-2330") is not None


@pytest.mark.parametrize(
    ("name", "missing", "key"),
    [
        (EXPERIMENT, "experimentA/idr0032-experimentA-assays.txt", "Experiment Assay File"),
        (SCREEN, "screenA/idr0025-screenA-library.txt", "Library File Name"),
    ],
)
def test_missing_experiment_or_library_file(tmp_path: Path, name: str, missing: str, key: str) -> None:
    folder = copy_study(tmp_path, name)
    (folder / missing).unlink()
    [finding] = errors_for(check_study_folder(folder), key)
    assert finding.file == missing
    assert finding.message.startswith("is missing: every")


def test_missing_component_folder(tmp_path: Path) -> None:
    folder = copy_study(tmp_path, SCREEN)
    shutil.rmtree(folder / "screenA")
    block = line_of(study_file(folder), "Screen Number")
    report = check_study_folder(folder)
    assert [(f.file, f.message) for f in report.errors] == [
        (
            "screenA",
            f"is missing: screen block on line {block} of idr0025-study.txt expects its files in the "
            "folder screenA/",
        )
    ]


def test_numbering_must_match_folders_and_file_names(tmp_path: Path) -> None:
    folder = copy_study(tmp_path, EXPERIMENT)
    edit_line(
        study_file(folder),
        "Comment[IDR Experiment Name]",
        "Comment[IDR Experiment Name]\tidr0032-yang-meristem/experimentB",
    )
    report = check_study_folder(folder)
    [name] = errors_for(report, "Comment[IDR Experiment Name]")
    assert "must be 'experimentA'" in name.message
    assert any(f.file == "experimentB" and "is missing" in f.message for f in report.errors)
    assert any(
        f.file == "experimentA" and "no experiment or screen block" in f.message for f in report.errors
    )


def test_block_numbers_run_from_one(tmp_path: Path) -> None:
    folder = copy_study(tmp_path, SCREEN)
    edit_line(study_file(folder), "Screen Number", "Screen Number\t2")
    [finding] = errors_for(check_study_folder(folder), "Screen Number")
    assert finding.message.startswith("is 2 but this is block 1")


def test_files_named_for_another_component(tmp_path: Path) -> None:
    folder = copy_study(tmp_path, EXPERIMENT)
    processed = folder / "experimentA" / "idr0032-experimentA-processed.txt"
    processed.rename(processed.with_name("idr0032-experimentB-processed.txt"))
    report = check_study_folder(folder)
    assert any(
        f.file == "experimentA/idr0032-experimentB-processed.txt"
        and "must start with idr0032-experimentA-" in f.message
        for f in report.errors
    ), describe(report)


@pytest.mark.parametrize(
    ("key", "line", "message"),
    [
        (
            "Study Public Release Date",
            "Study Public Release Date\t18/01/2017",
            "'18/01/2017' is not a date written as YYYY-MM-DD",
        ),
        ("Study Public Release Date", "Study Public Release Date\t2017-02-30", "is not a real calendar date"),
        ("Study DOI", "Study DOI\tdoi.org/cub.2016.04.026", "is not a DOI"),
        ("Study PubMed ID", "Study PubMed ID\tPMID27212401", "is not a PubMed ID"),
        (
            "Comment[IDR Study Accession]",
            "Comment[IDR Study Accession]\tidr0033",
            "says idr0033 but the study file is named idr0032-study.txt",
        ),
        ("Study Experiments Number", "Study Experiments Number\t2", "says 2 but the study file has 1"),
        (
            "Study Person Email",
            "Study Person Email\traymond.wightman(at)slcu.cam.ac.uk",
            "is not an e-mail address",
        ),
        (
            "Study Author List",
            "Study Author List\tYang W\tSomeone Else",
            "has 2 author lists for 1 publication titles",
        ),
    ],
)
def test_malformed_values(tmp_path: Path, key: str, line: str, message: str) -> None:
    folder = copy_study(tmp_path, EXPERIMENT)
    edit_line(study_file(folder), key, line)
    findings = errors_for(check_study_folder(folder), key)
    assert any(message in finding.message for finding in findings), findings


def test_licence_must_be_known_and_match_its_url(tmp_path: Path) -> None:
    folder = copy_study(tmp_path, SCREEN)
    edit_line(study_file(folder), "Study License", "Study License\tFree for all")
    [unknown] = errors_for(check_study_folder(folder), "Study License")
    assert unknown.message.startswith("'Free for all' is not a licence we recognise")
    edit_line(study_file(folder), "Study License", "Study License\tCC BY 4.0")
    [mismatch] = errors_for(check_study_folder(folder), "Study License URL")
    assert mismatch.message == "points to CC-BY-SA-3.0 but 'Study License' says CC BY 4.0 (CC-BY-4.0)"


@pytest.mark.parametrize(
    ("text", "spdx"),
    [
        ("CC BY-SA 3.0", "CC-BY-SA-3.0"),
        ("https://creativecommons.org/licenses/by/4.0/", "CC-BY-4.0"),
        ("CC0 1.0", "CC0-1.0"),
        ("Creative Commons Attribution 4.0 International", "CC-BY-4.0"),
        ("https://spdx.org/licenses/MIT.html", "MIT"),
        ("Free for all", None),
    ],
)
def test_licence_names(text: str, spdx: str | None) -> None:
    assert licence_id(text) == spdx


def test_duplicate_key_and_key_in_the_wrong_section(tmp_path: Path) -> None:
    folder = copy_study(tmp_path, EXPERIMENT)
    path = study_file(folder)
    path.write_text(path.read_text() + "Study Title\tA title too late\n")
    [late] = errors_for(check_study_folder(folder), "Study Title")
    assert late.message.startswith(
        "belongs to the study section at the top but comes after 'Experiment Number'"
    )
    first = line_of(path, "Experiment Description")
    edit_line(path, "Experiment Description", "Experiment Description\tOnce\nExperiment Description\tTwice")
    [twice] = errors_for(check_study_folder(folder), "Experiment Description")
    assert twice.message == f"appears a second time (first on line {first}); IDR reads only the first"


def test_screen_keys_in_an_experiment_block(tmp_path: Path) -> None:
    folder = copy_study(tmp_path, EXPERIMENT)
    block = line_of(study_file(folder), "Experiment Number")
    edit_line(study_file(folder), "Experiment Comments", "Library File Name\tlibrary.txt")
    [finding] = errors_for(check_study_folder(folder), "Library File Name")
    assert finding.message == (
        f"is a key for screens but sits in the experiment block starting on line {block}"
    )


def test_annotation_header_needs_the_first_columns(tmp_path: Path) -> None:
    folder = copy_study(tmp_path, SCREEN)
    annotation = folder / "screenA" / "idr0025-screenA-annotation.csv"
    annotation.write_text(annotation.read_text().replace("Plate,Well,", "Well,Plate,", 1))
    report = check_study_folder(folder)
    [finding] = [f for f in report.errors if f.file == "screenA/idr0025-screenA-annotation.csv"]
    assert finding.message == "must start with the columns Plate, Well (it starts with Well, Plate)"


def test_assays_rows_must_have_the_header_width(tmp_path: Path) -> None:
    folder = copy_study(tmp_path, EXPERIMENT)
    assays = folder / "experimentA" / "idr0032-experimentA-assays.txt"
    lines = assays.read_text().splitlines(keepends=True)
    width = len(lines[0].rstrip("\n").split("\t"))
    lines[3] = lines[3].replace("\t", "", 1)
    assays.write_text("".join(lines))
    report = check_study_folder(folder)
    widths = [(f.file, f.line, f.message) for f in report.errors if "columns where" in f.message]
    assert widths == [
        (
            "experimentA/idr0032-experimentA-assays.txt",
            4,
            f"has {width - 1} columns where the header has {width}",
        )
    ]


@pytest.mark.parametrize(
    ("content", "key", "message"),
    [
        ("path: [unclosed\n", "", "is not valid YAML"),
        (
            'include: "../../bulk.yml"\npath: "idr0032-experimentA-files.tsv"\n',
            "path",
            "names idr0032-experimentA-files.tsv, which is not in experimentA/",
        ),
        (
            'include: "../../bulk.yml"\npath: "idr0032-experimentA-filePaths.tsv"\ncolumns: [target, path]\n'
            "checksum: true\n",
            "checksum",
            "is not an option of omero import",
        ),
        (
            'include: "../../bulk.yml"\npath: "idr0032-experimentA-filePaths.tsv"\ncolumns: [target]\n',
            "columns",
            "has no 'path' column",
        ),
        (
            'include: "../../bulk.yml"\npath: "idr0032-experimentA-filePaths.tsv"\ncolumns: [target, path]\n'
            "skip: [everything]\n",
            "skip",
            "'everything' is not one of",
        ),
    ],
)
def test_bulk_yml_problems(tmp_path: Path, content: str, key: str, message: str) -> None:
    folder = copy_study(tmp_path, EXPERIMENT)
    (folder / "experimentA" / "idr0032-experimentA-bulk.yml").write_text("---\n" + content)
    report = check_study_folder(folder)
    assert any(
        f.key == key and message in f.message and f.file.endswith("bulk.yml") for f in report.errors
    ), describe(report)


def test_bulk_include_that_is_not_there_is_only_a_warning(tmp_path: Path) -> None:
    folder = copy_study(tmp_path, EXPERIMENT)
    (tmp_path / "bulk.yml").unlink()
    report = check_study_folder(folder)
    assert report.ok, describe(report)
    assert any(f.key == "include" for f in report.warnings)


def test_relative_plate_paths_must_exist(tmp_path: Path) -> None:
    folder = copy_study(tmp_path, SCREEN)
    (folder / "screens" / "10x images plate 2.screen").unlink()
    [finding] = check_study_folder(folder).errors
    assert (finding.file, finding.line, finding.key) == ("screenA/idr0025-screenA-plates.tsv", 2, "path")


def test_annotation_rows_without_imported_images_are_flagged(tmp_path: Path) -> None:
    folder = copy_study(tmp_path, EXPERIMENT)
    file_paths = folder / "experimentA" / "idr0032-experimentA-filePaths.tsv"
    lines = file_paths.read_text().splitlines(keepends=True)
    # What the two dropped rows import: their Dataset target and the image's name in it (the path's
    # file name). The dataset is the target's, not the path's folder: in idr0032 the folder is
    # At5g67230 while the dataset, and annotation.csv's Dataset Name, is AT5G67230.
    dropped: set[tuple[str, str]] = set()
    for line in lines[-2:]:
        target, path, *name = line.rstrip("\n").split("\t")
        dropped.add((target.rpartition("Dataset:name:")[2], name[0] if name else PurePosixPath(path).name))
    file_paths.write_text("".join(lines[:-2]))
    annotation = folder / "experimentA" / "idr0032-experimentA-annotation.csv"
    described = [
        f"{row[0]}/{row[1]}"
        for row in csv.reader(annotation.read_text(encoding="utf-8-sig").splitlines()[1:])
        if (row[0], row[1]) in dropped
    ]
    assert len(described) == 2
    report = check_study_folder(folder)
    assert report.ok
    assert [f.message for f in report.warnings if "row(s)" in f.message] == [
        f"{len(described)} row(s) describe an image that the import list does not bring in, the "
        f"first being {described[0]}"
    ]


# -- the writer ---------------------------------------------------------------------------------


@cache
def sample_images() -> tuple[AssayImage, ...]:
    """One image per sample file, annotated from its headers (inspected once: bioio is slow to load)."""
    images = []
    for unit in walk_units(SAMPLES):
        path = PurePosixPath(unit.relative_path)
        if path.parts[0] in ("broken", "ome-xml") or path.parent.name == "multifile":
            continue
        record = inspect_path(SAMPLES / unit.relative_path)
        channels = "; ".join(
            channel.name or f"channel {index}" for index, channel in enumerate(record.channels)
        )
        images.append(
            AssayImage(
                dataset=path.parts[0],
                name=path.name,
                path=path,
                characteristics=(
                    Characteristic.of("Organism", HOMO_SAPIENS),
                    Characteristic("Comment [Image File Format]", record.format),
                    Characteristic("Channels", channels),
                ),
            )
        )
    images.append(
        AssayImage(
            dataset="ome-tiff",
            name="multifile.companion.ome",
            path=PurePosixPath("ome-tiff/multifile/multifile.companion.ome"),
        )
    )
    return tuple(images)


def sample_study() -> IdrStudy:
    """An experiment over the sample images (one dataset per format folder) and a screen from the
    HCS OME-XML sample, as FAIRlight would build them from a scanned dataset."""
    images = list(sample_images())
    ome = ome_types.from_xml((SAMPLES / "ome-xml" / "hcs.ome.xml").read_text(encoding="utf-8"))
    plate = ome.plates[0]
    wells = [
        Well(
            plate=plate.name or "plate",
            well=f"{chr(ord('A') + well.row)}{well.column + 1}",
            characteristics=(
                Characteristic.of("Cell Line", Term("HeLa", "EFO", "EFO_0001185")),
                Characteristic("Comment [Gene Symbol]", "ACTB"),
            ),
        )
        for well in plate.wells
    ]
    protocols = [
        Protocol("growth protocol", Term("growth protocol", "EFO", "EFO_0003789"), "HeLa in DMEM."),
        Protocol(
            "image acquisition and feature extraction protocol",
            description="Widefield and confocal images.\nNo feature extraction.",
        ),
    ]
    return IdrStudy(
        title="FAIRlight sample images",
        description="Small microscopy files in common formats, used to test FAIRlight.",
        study_type=Term("imaging assay", "OBI", "OBI_0000185"),
        name_suffix="fairlight-samples",
        release_date=date(2026, 6, 30),
        key_words=["test data", "file formats"],
        publications=[Publication("FAIRlight sample images", "Doe J, Roe R", doi="10.5281/zenodo.0000000")],
        contacts=[
            Contact(
                "Doe",
                "Jane",
                "jane.doe@example.org",
                "Example University",
                "https://orcid.org/0000-0002-1825-0097",
                ("submitter", "author"),
            )
        ],
        licence="CC-BY-4.0",
        copyright="Doe et al",
        components=[
            Experiment(
                description="One dataset per file format.",
                sample_type="cell",
                imaging_methods=[FLUORESCENCE],
                organisms=[HOMO_SAPIENS],
                protocols=protocols,
                images=images,
            ),
            Screen(
                description="The OME HCS sample plate.",
                sample_type="cell",
                imaging_methods=[Term("confocal microscopy", "FBbi", "FBbi_00000251")],
                organisms=[HOMO_SAPIENS],
                screen_type=Term("primary screen", "EFO", "EFO_0007556"),
                technology_types=[Term("RNAi screen", "EFO", "EFO_0007551")],
                library_type=Term("siRNA library", "EFO", "EFO_0007564"),
                library_manufacturer="Ambion",
                plates=[Plate(plate.name or "plate", PurePosixPath("ome-xml/hcs.ome.xml"))],
                wells=wells,
            ),
        ],
    )


def test_written_sample_study_passes_the_checker_without_findings(tmp_path: Path) -> None:
    written = write_study(sample_study(), output=tmp_path, upload_root=UPLOAD_ROOT)
    report = check_study_folder(written.folder)
    assert report.findings == [], describe(report)
    assert written.folder.name == "idr0000-fairlight-samples"
    assert sorted(str(path.relative_to(written.folder)) for path in written.files) == [
        "experimentA/idr0000-experimentA-annotation.csv",
        "experimentA/idr0000-experimentA-assays.txt",
        "experimentA/idr0000-experimentA-bulk.yml",
        "experimentA/idr0000-experimentA-filePaths.tsv",
        "idr0000-study.txt",
        "screenB/idr0000-screenB-annotation.csv",
        "screenB/idr0000-screenB-bulk.yml",
        "screenB/idr0000-screenB-library.txt",
        "screenB/idr0000-screenB-plates.tsv",
    ]


def test_written_file_paths_point_below_the_upload_root_at_existing_samples(tmp_path: Path) -> None:
    written = write_study(sample_study(), output=tmp_path, upload_root=UPLOAD_ROOT)
    rows = [
        line.split("\t")
        for line in (written.folder / "experimentA" / "idr0000-experimentA-filePaths.tsv")
        .read_text()
        .splitlines()
    ]
    assert len(rows) == 8
    for target, path, name in rows:
        assert re.fullmatch(
            r"Project:name:idr0000-fairlight-samples/experimentA/Dataset:name:[a-z0-9-]+", target
        )
        relative = PurePosixPath(path).relative_to(UPLOAD_ROOT)
        assert (SAMPLES / relative).exists()
        assert relative.name == name
    plates = (written.folder / "screenB" / "idr0000-screenB-plates.tsv").read_text()
    assert plates == f"Control Plate\t{UPLOAD_ROOT}/ome-xml/hcs.ome.xml\n"


def test_written_study_file_declares_every_term_source_and_the_licence(tmp_path: Path) -> None:
    written = write_study(sample_study(), output=tmp_path, upload_root=UPLOAD_ROOT)
    lines: dict[str, list[str]] = {}
    for line in (written.folder / "idr0000-study.txt").read_text().splitlines():
        if line:
            lines.setdefault(line.split("\t")[0], line.split("\t")[1:])  # first block wins
    assert lines["Term Source Name"] == ["OBI", "FBbi", "NCBITaxon", "EFO"]
    assert lines["Study License"] == ["CC BY 4.0"]
    assert lines["Study License URL"] == ["https://creativecommons.org/licenses/by/4.0/"]
    assert lines["Study Public Release Date"] == ["2026-06-30"]
    assert lines["Comment[IDR Study Accession]"] == ["idr0000"]
    assert lines["Study Person Roles"] == ["submitter; author"]
    # line breaks inside a value would start a new key line
    assert lines["Protocol Description"][1] == "Widefield and confocal images. No feature extraction."
    assays = (written.folder / "experimentA" / "idr0000-experimentA-assays.txt").read_text().splitlines()
    assert assays[0].split("\t")[:4] == [
        "Source Name",
        "Characteristics [Organism]",
        "Term Source 1 REF",
        "Term Source 1 Accession",
    ]


def test_writer_output_with_an_error_is_caught_by_the_checker(tmp_path: Path) -> None:
    study = sample_study()
    study.contacts = [Contact("Doe", "Jane", "jane.doe@example.org", orcid="0000-0002-1825-0098")]
    study.release_date = None
    report = check_study_folder(write_study(study, output=tmp_path, upload_root=UPLOAD_ROOT).folder)
    assert {finding.key for finding in report.errors} == {"Study Person ORCID", "Study Public Release Date"}


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda s: setattr(s, "components", []), "the study has no experiment or screen to describe"),
        (lambda s: setattr(s, "name_suffix", "Doe Example"), "must be lower-case words joined by hyphens"),
        (lambda s: s.components[0].images.append(s.components[0].images[0]), "has two images named"),
        (
            lambda s: s.components[0].images.append(
                AssayImage("png-jpeg", "x.png", PurePosixPath("../outside/x.png"))
            ),
            "without '..'",
        ),
        (
            lambda s: s.components[0].images.append(
                AssayImage("png-jpeg", "y.png", PurePosixPath("png-jpeg/y\t.png"))
            ),
            "tab or line break",
        ),
        (
            lambda s: setattr(s, "study_type", Term("imaging", "MYONTO", "MYONTO_1")),
            "the Term Source MYONTO is not one we know",
        ),
        (lambda s: s.components[1].wells.append(Well("Other Plate", "A1")), "which is not one of its plates"),
        (lambda s: s.components[1].wells.append(Well("Control Plate", "1A")), "'1A' is not a well position"),
        (lambda s: setattr(s, "title", "# not a hint"), "starts with #"),
    ],
)
def test_writer_refuses_what_idr_files_cannot_hold(
    tmp_path: Path, change: Callable[[IdrStudy], object], message: str
) -> None:
    study = sample_study()
    change(study)
    with pytest.raises(IdrWriteError, match=re.escape(message)):
        write_study(study, output=tmp_path / "out", upload_root=UPLOAD_ROOT)


def test_writer_needs_an_absolute_upload_root_and_an_empty_output(tmp_path: Path) -> None:
    with pytest.raises(IdrWriteError, match="must be an absolute path"):
        write_study(sample_study(), output=tmp_path, upload_root="uploads/idr")
    assert list(tmp_path.iterdir()) == []
    write_study(sample_study(), output=tmp_path, upload_root=UPLOAD_ROOT)
    with pytest.raises(IdrWriteError, match="already exists and is not empty"):
        write_study(sample_study(), output=tmp_path, upload_root=UPLOAD_ROOT)


def test_unknown_term_source_with_a_uri_is_declared(tmp_path: Path) -> None:
    study = sample_study()
    study.study_type = Term("imaging", "MYONTO", "MYONTO_1")
    study.term_sources = {"MYONTO": "https://example.org/myonto/"}
    written = write_study(study, output=tmp_path, upload_root=UPLOAD_ROOT)
    assert check_study_folder(written.folder).findings == []


@pytest.mark.parametrize(
    ("accession", "suffix", "file_paths", "bulk"),
    [
        (
            "idr0101",
            "payne-insitugenomeseq",
            "idr0101-experimentA-filePaths.tsv",
            "idr0101-experimentA-bulk.yml",
        ),
        ("idr0138", "lohoff-seqfish", "idr0138-experimentA-filePaths_sample.tsv", None),
    ],
)
def test_real_three_column_file_paths_are_accepted(
    tmp_path: Path, accession: str, suffix: str, file_paths: str, bulk: str | None
) -> None:
    """IDR's own filePaths.tsv examples (Project/Dataset targets, a name column, .pattern files)
    dropped into a study of the same name: only the annotation no longer matches them."""
    study = sample_study()
    study.accession, study.name_suffix = accession, suffix
    study.components = study.components[:1]
    folder = write_study(study, output=tmp_path, upload_root=UPLOAD_ROOT).folder / "experimentA"
    examples = shared_idr() / "templates" / "filePaths_examples"
    (folder / f"{accession}-experimentA-bulk.yml").unlink()
    shutil.copy(examples / file_paths, folder / f"{accession}-experimentA-filePaths.tsv")
    if bulk:
        shutil.copy(examples / bulk, folder / f"{accession}-experimentA-bulk.yml")
    report = check_study_folder(folder.parent)
    assert report.ok, describe(report)
    annotation = f"experimentA/{accession}-experimentA-annotation.csv"
    assert [finding.file for finding in report.warnings] == [annotation]


def test_file_paths_must_import_into_the_study_s_own_project(tmp_path: Path) -> None:
    folder = write_study(sample_study(), output=tmp_path, upload_root=UPLOAD_ROOT).folder
    file_paths = folder / "experimentA" / "idr0000-experimentA-filePaths.tsv"
    text = file_paths.read_text()
    file_paths.write_text(text.replace("Project:name:idr0000-fairlight-samples/", "Project:name:"))
    report = check_study_folder(folder)
    # eight rows: five reported one by one, the rest counted
    assert [f.key for f in report.errors] == ["target"] * 5 + [""]
    assert {f.file for f in report.errors} == {f"experimentA/{file_paths.name}"}
    assert report.errors[0].message == (
        "imports into the project experimentA, not into one of idr0000-fairlight-samples"
    )
    assert report.errors[-1].message == "3 more rows have the same kind of problem (project)"


def test_draft_checks_still_refuse_malformed_values(tmp_path: Path) -> None:
    folder = template_study(tmp_path, "nonHCS")
    date_line = "Study Public Release Date\t2026/06/30"
    edit_line(folder / "idr0000-study.txt", "Study Public Release Date", date_line)
    [finding] = check_study_folder(folder, draft=True).errors
    assert (finding.key, finding.message) == (
        "Study Public Release Date",
        "'2026/06/30' is not a date written as YYYY-MM-DD",
    )


def test_component_numbering_helpers() -> None:
    assert [component_folder("Experiment", n) for n in (1, 2, 26, 27)] == [
        "experimentA",
        "experimentB",
        "experimentZ",
        "experimentAA",
    ]
    assert [component_number(name) for name in ("screenA", "experimentC", "experimentAA", "screens")] == [
        1,
        3,
        27,
        None,
    ]


# -- round trips through the model --------------------------------------------------------------


def test_round_trip_of_the_real_experiment(tmp_path: Path) -> None:
    study = read_study(shared_idr() / EXPERIMENT)
    assert study.name == EXPERIMENT
    [experiment] = study.components
    assert isinstance(experiment, Experiment)
    file_paths = shared_idr() / EXPERIMENT / "experimentA" / "idr0032-experimentA-filePaths.tsv"
    assert len(experiment.images) == len(file_paths.read_text().splitlines())
    written = write_study(study, output=tmp_path, upload_root="/uod/idr/filesets/idr0032-yang-meristem")
    report = check_study_folder(written.folder)
    assert report.ok, describe(report)
    # idr0032 states no licence; writing it back does not invent one
    assert [finding.key for finding in report.warnings] == ["Study License"]
    original = (shared_idr() / EXPERIMENT / "experimentA" / "idr0032-experimentA-filePaths.tsv").read_text()
    rewritten = (written.folder / "experimentA" / "idr0032-experimentA-filePaths.tsv").read_text()
    assert {line.split("\t")[1] for line in rewritten.splitlines()} == {
        line.split("\t")[1] for line in original.splitlines()
    }
    again = read_study(written.folder, upload_root="/uod/idr/filesets/idr0032-yang-meristem")
    assert (again.title, again.release_date, again.contacts, again.publications) == (
        study.title,
        date(2017, 1, 18),
        study.contacts,
        study.publications,
    )
    [experiment_again] = again.components
    assert isinstance(experiment_again, Experiment)
    assert experiment_again.images == experiment.images
    assert experiment_again.protocols == experiment.protocols


def test_round_trip_of_the_real_screen(tmp_path: Path) -> None:
    study = read_study(shared_idr() / SCREEN)
    [screen] = study.components
    assert isinstance(screen, Screen)
    assert [plate.path for plate in screen.plates] == [
        PurePosixPath(f"screens/10x images plate {n}.screen") for n in (1, 2, 3)
    ]
    assert len(screen.wells) == 288  # 3 plates of 96 wells
    assert study.licence == "CC BY-SA 3.0"
    written = write_study(
        study, output=tmp_path, upload_root="/uod/idr/filesets/idr0025-stadler-proteinatlas"
    )
    report = check_study_folder(written.folder)
    assert report.findings == [], describe(report)
    again = read_study(written.folder)
    [screen_again] = again.components
    assert isinstance(screen_again, Screen)
    assert screen_again.wells == screen.wells
    assert (screen_again.screen_type, screen_again.technology_types, screen_again.phenotypes) == (
        screen.screen_type,
        screen.technology_types,
        screen.phenotypes,
    )
    assert again.term_sources == {
        "NCBITaxon": "http://purl.obolibrary.org/obo/",
        "EFO": "http://www.ebi.ac.uk/efo/",
        "CMPO": "http://www.ebi.ac.uk/cmpo/",
        "Fbbi": "http://purl.obolibrary.org/obo/",
    }
