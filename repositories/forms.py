from __future__ import annotations

from typing import Any, cast

from django import forms

from metadata.models import Dataset
from projects.forms import DateInput
from projects.models import Project
from repositories import registry
from repositories.models import State, Target
from repositories.router import Modality


class SubmissionCreateForm(forms.Form):
    title = forms.CharField(max_length=300, help_text="How you will recognise this submission in FAIRlight.")
    target = forms.ChoiceField(label="Repository", widget=forms.RadioSelect)
    datasets = forms.ModelMultipleChoiceField(
        queryset=Dataset.objects.none(), widget=forms.CheckboxSelectMultiple, label="Datasets"
    )
    release_date = forms.DateField(
        widget=DateInput(),
        required=False,
        help_text="When the archive makes the data public (a date in the project's time zone).",
    )

    def __init__(self, *args: Any, project: Project, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        datasets = cast(forms.ModelMultipleChoiceField[Dataset], self.fields["datasets"])
        datasets.queryset = Dataset.objects.filter(project=project).order_by("title")
        target = cast(forms.ChoiceField, self.fields["target"])
        target.choices = [(t.key, t.label) for t in registry.available()]
        unavailable = [str(label) for key, label in Target.choices if not registry.is_available(key)]
        if unavailable:
            target.help_text = f"Packages for {', '.join(unavailable)} are not available yet."


class RouterForm(forms.Form):
    """The questions the repository router asks; size and licence come from the data."""

    modality = forms.ChoiceField(choices=Modality.choices, initial=Modality.LIGHT, label="Imaging modality")
    is_screen = forms.BooleanField(required=False, label="A high-content screen (plates and wells)")
    is_reference = forms.BooleanField(
        required=False, label="A reference dataset of lasting value beyond one study (e.g. an atlas)"
    )


class TransitionForm(forms.Form):
    to_state = forms.ChoiceField(choices=State.choices, widget=forms.HiddenInput)
    note = forms.CharField(max_length=2000, required=False, widget=forms.TextInput, label="Note")


class ReleaseDateForm(forms.Form):
    release_date = forms.DateField(
        widget=DateInput(attrs={"aria-label": "Release date"}), label="Release date"
    )
    note = forms.CharField(
        max_length=2000,
        required=False,
        label="Why",
        widget=forms.TextInput(attrs={"placeholder": "Why (optional)", "aria-label": "Why the date changes"}),
    )


class AccessionForm(forms.Form):
    accession = forms.CharField(
        max_length=100,
        label="Accession or record id",
        widget=forms.TextInput(
            attrs={"placeholder": "Accession, e.g. S-BIAD1494", "aria-label": "Accession"}
        ),
    )
    doi = forms.CharField(
        max_length=200,
        required=False,
        label="DOI",
        widget=forms.TextInput(attrs={"placeholder": "DOI (optional)", "aria-label": "DOI"}),
    )
