from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any


@dataclass
class Channel:
    name: str | None = None
    excitation_nm: float | None = None
    emission_nm: float | None = None
    fluor: str | None = None
    contrast_method: str | None = None
    illumination: str | None = None


@dataclass
class Objective:
    model: str | None = None
    manufacturer: str | None = None
    magnification: float | None = None
    numerical_aperture: float | None = None
    immersion: str | None = None


@dataclass
class Detector:
    model: str | None = None
    manufacturer: str | None = None
    type: str | None = None


@dataclass
class Microscope:
    manufacturer: str | None = None
    model: str | None = None
    type: str | None = None
    serial_number: str | None = None


@dataclass
class ImageRecord:
    """What a file's headers say about its image(s); the first image stands for the file."""

    format: str
    reader: str
    size_bytes: int
    file_count: int = 1
    is_image: bool = True
    image_count: int = 0
    scene_names: list[str] = field(default_factory=list)
    dims: dict[str, int] = field(default_factory=dict)
    dimension_order: str | None = None
    dtype: str | None = None
    pixel_size_um: dict[str, float] = field(default_factory=dict)
    time_increment_s: float | None = None
    channels: list[Channel] = field(default_factory=list)
    objective: Objective | None = None
    detector: Detector | None = None
    microscope: Microscope | None = None
    acquired_at: str | None = None
    fileset: str | None = None
    ome_xml: str | None = None
    notes: list[str] = field(default_factory=list)

    def to_json(self, *, include_ome_xml: bool = False) -> dict[str, Any]:
        data = asdict(self)
        if not include_ome_xml:
            data.pop("ome_xml")
        return data

    @property
    def instrument_label(self) -> str | None:
        if self.microscope and (self.microscope.manufacturer or self.microscope.model):
            return " ".join(p for p in (self.microscope.manufacturer, self.microscope.model) if p)
        return None

    @property
    def objective_label(self) -> str | None:
        if self.objective is None:
            return None
        parts = [self.objective.model or ""]
        if self.objective.magnification and not parts[0]:
            parts.append(f"{self.objective.magnification:g}x")
        if self.objective.numerical_aperture and not parts[0]:
            parts.append(f"NA {self.objective.numerical_aperture:g}")
        label = " ".join(p for p in parts if p)
        return label or None
