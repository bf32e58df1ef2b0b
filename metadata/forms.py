from __future__ import annotations

from typing import Any, cast

from django import forms

from metadata.imaging.formats import FORMAT_LABELS, Format
from metadata.services import storage_roots_for
from projects.models import Project, StorageRoot


class DatasetRegisterForm(forms.Form):
    title = forms.CharField(max_length=300)
    storage_root = forms.ModelChoiceField(queryset=StorageRoot.objects.none(), label="Storage root")
    relative_path = forms.CharField(
        max_length=1000,
        label="Folder",
        help_text="Path inside the storage root, e.g. lab-a/2026-11-03_confocal. "
        "'..' and absolute paths are refused.",
    )
    description = forms.CharField(widget=forms.Textarea(attrs={"rows": 3}), required=False)
    want_md5 = forms.BooleanField(
        required=False,
        label="Also compute MD5 checksums",
        help_text="Zenodo lists MD5; other archives use SHA-256.",
    )

    def __init__(self, *args: Any, project: Project, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        roots = cast(forms.ModelChoiceField[StorageRoot], self.fields["storage_root"])
        roots.queryset = StorageRoot.objects.filter(pk__in=[r.pk for r in storage_roots_for(project)])


class FileFilterForm(forms.Form):
    format = forms.ChoiceField(
        choices=[("", "Any format"), *((f.value, FORMAT_LABELS[f]) for f in Format)], required=False
    )
    with_errors = forms.BooleanField(required=False, label="Only files with errors")
    q = forms.CharField(required=False, label="Path contains")


class MultipleFileInput(forms.ClearableFileInput):
    allow_multiple_selected = True


class MultipleFileField(forms.FileField):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("widget", MultipleFileInput())
        super().__init__(*args, **kwargs)

    def clean(self, data: Any, initial: Any = None) -> list[Any]:
        items = data if isinstance(data, list | tuple) else [data]
        return [super(MultipleFileField, self).clean(item, initial) for item in items]


class DatasetUploadForm(forms.Form):
    title = forms.CharField(max_length=300)
    images = MultipleFileField(
        label="Files",
        help_text="Choose the image files (a folder's structure is not kept); for large data, register a "
        "folder on facility storage instead.",
    )
    description = forms.CharField(widget=forms.Textarea(attrs={"rows": 3}), required=False)
    want_md5 = forms.BooleanField(required=False, label="Also compute MD5 checksums")


class AnnotationColumnForm(forms.Form):
    name = forms.CharField(
        max_length=100, help_text="The column header, e.g. genotype or Characteristics [Treatment]."
    )
    kind = forms.ChoiceField(choices=[("text", "Text"), ("number", "Number"), ("choice", "One of a list")])
    allowed_values = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 3}),
        required=False,
        help_text="For “one of a list”: the values, one per line.",
    )
    unit = forms.CharField(max_length=50, required=False)
    description = forms.CharField(widget=forms.Textarea(attrs={"rows": 2}), required=False)

    def clean_allowed_values(self) -> list[str]:
        return [line.strip() for line in self.cleaned_data["allowed_values"].splitlines() if line.strip()]


class AnnotationCsvForm(forms.Form):
    csv_file = forms.FileField(
        label="CSV file", help_text="A “path” column and one column per annotation, as exported."
    )
