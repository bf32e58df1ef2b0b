"""Values for REMBI forms taken from what the scan found, each with where it came from.

Only what the files actually say is offered: the most common value among the dataset's
images, with how many images agree, so the person filling the form can judge and confirm.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from metadata.imaging.formats import FORMAT_LABELS, Format
from metadata.instruments import instrument_match
from metadata.models import Dataset, ImageFile
from projects.models import Project

# The format terms of the scanner's formats: EDAM where it has one, FAIRlight's local vocabulary
# (https://w3id.org/fairlight/format/…, see vocabularies/data/README.md) where it does not.
FORMAT_TERMS = {
    Format.OME_TIFF: "http://edamontology.org/format_3727",
    Format.TIFF: "http://edamontology.org/format_3591",
    Format.PNG: "http://edamontology.org/format_3603",
    Format.JPEG: "http://edamontology.org/format_3579",
    Format.OME_ZARR: "https://w3id.org/fairlight/format/ome-zarr",
    Format.CZI: "https://w3id.org/fairlight/format/czi",
    Format.LIF: "https://w3id.org/fairlight/format/lif",
    Format.ND2: "https://w3id.org/fairlight/format/nd2",
}
# FBbi terms suggested from what the headers say about the instrument and the channels.
FLUORESCENCE = ("FBbi:00000246", "fluorescence microscopy")
CONFOCAL = ("FBbi:00000251", "confocal microscopy")
_CONFOCAL_WORDS = ("confocal", "lsm", "sp5", "sp8", "stellaris", "csu-", "spinning")


@dataclass
class Prefill:
    values: dict[str, Any] = field(default_factory=dict)
    sources: dict[str, str] = field(default_factory=dict)

    def offer(self, name: str, value: Any, source: str) -> None:
        if value not in (None, "", [], {}):
            self.values[name] = value
            self.sources[name] = source


def _images(dataset: Dataset) -> list[ImageFile]:
    return list(
        dataset.files.filter(is_image=True, error_code="").only(
            "relative_path", "metadata", "format", "instrument"
        )
    )


def _most_common(images: Iterable[ImageFile], pick: Callable[[dict[str, Any]], Any]) -> tuple[Any, int, str]:
    """The most common non-empty value, how many images have it, and one of them."""
    counts: Counter[str] = Counter()
    examples: dict[str, tuple[Any, str]] = {}
    for image in images:
        value = pick(image.metadata)
        if value in (None, "", [], {}):
            continue
        key = repr(value)
        counts[key] += 1
        examples.setdefault(key, (value, image.relative_path))
    if not counts:
        return None, 0, ""
    key, count = counts.most_common(1)[0]
    value, example = examples[key]
    return value, count, example


def _pixel_size(axis: str) -> Callable[[dict[str, Any]], Any]:
    return lambda metadata: (metadata.get("pixel_size_um") or {}).get(axis)


def _source(count: int, total: int, example: str) -> str:
    return f"from the scan: {count} of {total} images (e.g. {example})"


def prefill_image_data(dataset: Dataset) -> Prefill:
    images = _images(dataset)
    prefill = Prefill()
    total = len(images)
    prefill.offer("title", f"Images of {dataset.title}", "from the dataset's title")
    formats = Counter(image.format for image in images)
    if formats:
        fmt, count = formats.most_common(1)[0]
        example = next(image.relative_path for image in images if image.format == fmt)
        term = FORMAT_TERMS.get(Format(fmt))
        if term:
            prefill.offer(
                "image_format",
                {"term_id": term, "label": FORMAT_LABELS[Format(fmt)]},
                _source(count, total, example),
            )
    dims, count, example = _most_common(images, lambda m: m.get("dims"))
    if dims:
        source = _source(count, total, example)
        prefill.offer("dimension_order", "".join(axis for axis in dims if axis in "TCZYXS"), source)
        for axis in "XYZCT":
            if axis in dims:
                prefill.offer(f"size_{axis.lower()}", int(dims[axis]), source)
    for axis in "xyz":
        size, count, example = _most_common(images, _pixel_size(axis))
        prefill.offer(
            f"voxel_size_{axis}", round(float(size), 6) if size else None, _source(count, total, example)
        )
    step, count, example = _most_common(images, lambda m: m.get("time_increment_s"))
    prefill.offer("timestep_duration", step, _source(count, total, example))
    names, count, example = _most_common(
        images, lambda m: [c.get("name") for c in m.get("channels", []) if c.get("name")] or None
    )
    prefill.offer("channel_name", names, _source(count, total, example))
    prefill.offer("total_size_in_bytes", dataset.total_bytes, "from the scan's totals")
    prefill.offer("file_count", dataset.file_count, "from the scan's totals")
    return prefill


def _objective_text(objective: dict[str, Any] | None) -> str | None:
    if not objective:
        return None
    parts = [objective.get("model") or ""]
    if objective.get("magnification") and "x" not in parts[0].lower():
        parts.append(f"{objective['magnification']:g}x")
    if objective.get("numerical_aperture"):
        parts.append(f"NA {objective['numerical_aperture']:g}")
    if objective.get("immersion"):
        parts.append(str(objective["immersion"]))
    return " ".join(part for part in parts if part) or None


def prefill_image_acquisition(dataset: Dataset) -> Prefill:
    images = _images(dataset)
    total = len(images)
    prefill = Prefill()
    prefill.offer("title", f"Acquisition of {dataset.title}", "from the dataset's title")
    if dataset.instruments:
        prefill.offer(
            "imaging_instrument_description",
            ", ".join(dataset.instruments),
            "from the scan: microscopes named in the files",
        )
    objective, count, example = _most_common(images, lambda m: _objective_text(m.get("objective")))
    prefill.offer("objective", objective, _source(count, total, example))
    detector, count, example = _most_common(
        images, lambda m: " ".join(v for v in (m.get("detector") or {}).values() if v) or None
    )
    prefill.offer("detector", detector, _source(count, total, example))
    # The registry is curated by the facility, so its values win over what the headers say.
    _offer_registered_instrument(prefill, dataset, images)
    methods = []
    fluorescent, count, example = _most_common(
        images, lambda m: any(c.get("excitation_nm") or c.get("fluor") for c in m.get("channels", [])) or None
    )
    if fluorescent:
        methods.append((FLUORESCENCE, _source(count, total, example) + ": channels have excitation or fluor"))
    instrument_text = " ".join(dataset.instruments).lower()
    if any(word in instrument_text for word in _CONFOCAL_WORDS):
        methods.append((CONFOCAL, "suggested from the instrument's name"))
    if methods:
        prefill.offer(
            "fbbi_id", [term for (term, _), _ in methods], "; ".join(source for _, source in methods)
        )
        prefill.offer(
            "imaging_method_name", [label for (_, label), _ in methods], "suggested with the FBbi ids"
        )
    return prefill


def _offer_registered_instrument(prefill: Prefill, dataset: Dataset, images: list[ImageFile]) -> None:
    """Better values from the facility's instrument registry, when the files' microscope is in it."""
    scope, count, _ = _most_common(images, lambda m: m.get("microscope"))
    instrument, matched_by = instrument_match(dataset.project.facility_id, scope)
    if instrument is None:
        return
    source = (
        f"from the facility's instrument registry, matched by {matched_by} ({count} of {len(images)} images)"
    )
    description = f"{instrument.label} ({instrument.name})"
    if instrument.description:
        description += f"; {instrument.description}"
    prefill.offer("imaging_instrument_description", description, source)
    file_objective, _, _ = _most_common(images, lambda m: (m.get("objective") or {}).get("model"))
    registered = next((o for o in instrument.objectives if o.get("model") == file_objective), None)
    prefill.offer("objective", _objective_text(registered), source)
    if instrument.detectors:
        names = [
            " ".join(str(d.get(k)) for k in ("manufacturer", "model", "type") if d.get(k))
            for d in instrument.detectors
        ]
        prefill.offer("detector", "; ".join(names), source)


def prefill_specimen(dataset: Dataset) -> Prefill:
    images = _images(dataset)
    prefill = Prefill()
    prefill.offer("title", f"Specimens of {dataset.title}", "from the dataset's title")
    channels, count, example = _most_common(images, lambda m: m.get("channels") or None)
    if channels:
        info = []
        for channel in channels:
            mechanism = channel.get("fluor") or channel.get("contrast_method")
            if channel.get("excitation_nm") and not mechanism:
                mechanism = f"fluorescence, excitation {channel['excitation_nm']:g} nm"
            entry = {"channel_label": channel.get("name"), "signal_contrast_mechanism_description": mechanism}
            info.append({k: v for k, v in entry.items() if v})
        prefill.offer(
            "signal_channel_information", [i for i in info if i], _source(count, len(images), example)
        )
    return prefill


def prefill_study_component(dataset: Dataset) -> Prefill:
    prefill = Prefill()
    prefill.offer("title", dataset.title, "from the dataset")
    prefill.offer("description", dataset.description, "from the dataset")
    return prefill


def prefill_study(project: Project) -> Prefill:
    prefill = Prefill()
    prefill.offer("title", project.title, "from the project")
    prefill.offer("description", project.description, "from the project")
    authors = []
    for membership in project.memberships.select_related("user").order_by("pk"):
        user = membership.user
        author: dict[str, Any] = {"display_name": user.get_full_name() or user.username}
        if user.orcid:
            author["orcid"] = user.orcid
        if user.affiliation:
            affiliation = {"display_name": user.affiliation} | ({"rorid": user.ror_id} if user.ror_id else {})
            author["affiliation"] = [affiliation]
        authors.append(author)
    prefill.offer("author", authors, "from the project's members and their profiles")
    if project.funder and project.grant_id:
        prefill.offer("grant", [{"grant_id": project.grant_id, "funder": project.funder}], "from the project")
    return prefill


def prefill_for(class_name: str, *, dataset: Dataset) -> Prefill:
    match class_name:
        case "ImageData":
            return prefill_image_data(dataset)
        case "ImageAcquisition":
            return prefill_image_acquisition(dataset)
        case "Specimen":
            return prefill_specimen(dataset)
        case "StudyComponent":
            return prefill_study_component(dataset)
        case "Study":
            return prefill_study(dataset.project)
        case _:
            return Prefill()
