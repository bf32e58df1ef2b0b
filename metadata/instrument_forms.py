from __future__ import annotations

from typing import Any

from django import forms

from metadata.models import Instrument


class InstrumentForm(forms.ModelForm[Instrument]):
    class Meta:
        model = Instrument
        fields = ["name", "manufacturer", "model", "serial_number", "microscope_type", "description"]
        widgets = {"description": forms.Textarea(attrs={"rows": 3})}


class PartForm(forms.Form):
    """One part of an instrument; subclasses list the fields of each kind."""

    def to_entry(self) -> dict[str, Any]:
        return {
            name: value
            for name, value in self.cleaned_data.items()
            if value not in (None, "") and name != "DELETE"
        }


class ObjectiveForm(PartForm):
    model = forms.CharField(max_length=200, required=False)
    manufacturer = forms.CharField(max_length=200, required=False)
    magnification = forms.FloatField(min_value=0, required=False)
    numerical_aperture = forms.FloatField(
        min_value=0, max_value=2, required=False, label="Numerical aperture"
    )
    immersion = forms.CharField(
        max_length=50, required=False, help_text="Air, oil, water, glycerol, silicone…"
    )
    serial_number = forms.CharField(max_length=200, required=False)


class DetectorForm(PartForm):
    model = forms.CharField(max_length=200, required=False)
    manufacturer = forms.CharField(max_length=200, required=False)
    type = forms.CharField(max_length=50, required=False, help_text="PMT, GaAsP, HyD, sCMOS, EMCCD, CCD…")
    serial_number = forms.CharField(max_length=200, required=False)


class LightSourceForm(PartForm):
    model = forms.CharField(max_length=200, required=False)
    manufacturer = forms.CharField(max_length=200, required=False)
    type = forms.CharField(max_length=50, required=False, help_text="Laser, LED, arc lamp…")
    wavelength_nm = forms.FloatField(min_value=0, required=False, label="Wavelength (nm)")


class FilterForm(PartForm):
    model = forms.CharField(max_length=200, required=False)
    manufacturer = forms.CharField(max_length=200, required=False)
    type = forms.CharField(max_length=50, required=False, help_text="Band pass, long pass, dichroic…")
    filter_wheel = forms.CharField(max_length=100, required=False)


PARTS: list[tuple[str, str, type[PartForm]]] = [
    ("objectives", "Objectives", ObjectiveForm),
    ("detectors", "Detectors", DetectorForm),
    ("light_sources", "Light sources", LightSourceForm),
    ("filters", "Filters", FilterForm),
]


def part_formsets(instrument: Instrument, data: Any = None) -> list[tuple[str, str, forms.BaseFormSet[Any]]]:
    formsets = []
    for field, label, form_class in PARTS:
        formset_class = forms.formset_factory(form_class, extra=1, can_delete=True)
        formsets.append((field, label, formset_class(data, initial=getattr(instrument, field), prefix=field)))
    return formsets


class OmeXmlImportForm(forms.Form):
    ome_xml = forms.FileField(
        label="OME-XML file", help_text="An .ome.xml or .companion.ome file with <Instrument> blocks."
    )
