"""Forms for REMBI records, generated from rembi.yaml rather than written per field.

Each slot becomes a form field by its range: text (a text area for descriptions), numbers
with their bounds, enums as choices, patterns as validators with the schema's own example,
multivalued text as one value per line, ontology-term slots as term pickers, and lists of
nested classes (authors, organisms, channels) as formsets. A class nested one level deeper
(a contributor's affiliation) is edited as its first item's fields inside the nested form.

Drafts may be incomplete: fields refuse only malformed values (a date that is not a date, an
ORCID iD of the wrong form). What the schema requires is marked, and the validation report
says what is still missing before the record can be published.
"""

from __future__ import annotations

from typing import Any, ClassVar

from django import forms
from django.core.validators import RegexValidator

from metadata.schema.model import SchemaClass, Slot, rembi_schema
from vocabularies.forms import OntologyTermField
from vocabularies.models import Ontology
from vocabularies.selectors import term_by_iri

# Slots whose value is a term of these ontologies; the form stores what the schema expects.
TERM_SLOTS: dict[str, list[str]] = {
    "image_format": [Ontology.EDAM_FORMAT, Ontology.LOCAL_FORMAT],
    "ncbi_id": [Ontology.NCBITAXON],
}
# A picker that adds an FBbi term to fbbi_id and its label to imaging_method_name.
IMAGING_METHOD_PICKER = "add_imaging_method"
_LONG_TEXT = {"acknowledgement", "funding_statement", "transformation_matrix", "growth_protocol"}
_FLAT_SEPARATOR = "__"


def _lines(value: Any) -> str:
    return "\n".join(str(item) for item in value) if isinstance(value, list) else ""


class LinesField(forms.CharField):
    """A list of text values, one per line."""

    widget = forms.Textarea(attrs={"rows": 3})

    def __init__(self, *, item_validators: list[Any] | None = None, **kwargs: Any) -> None:
        self.item_validators = item_validators or []
        super().__init__(**kwargs)

    def prepare_value(self, value: Any) -> Any:
        return _lines(value) if isinstance(value, list) else value

    def clean(self, value: Any) -> list[str]:
        text = super().clean(value) or ""
        items = [line.strip() for line in text.splitlines() if line.strip()]
        errors: list[str] = []
        for item in items:
            for validator in self.item_validators:
                try:
                    validator(item)
                except forms.ValidationError as exc:
                    errors.extend(f"{item}: {message}" for message in exc.messages)
        if errors:
            raise forms.ValidationError(errors)
        return items


def _help(slot: Slot) -> str:
    parts = ["Required for publishing." if slot.required else "", slot.description]
    if slot.pattern_help and slot.pattern_help not in slot.description:
        parts.append(slot.pattern_help)
    if slot.recommended:
        parts.append("Recommended.")
    if slot.multivalued and slot.range not in rembi_schema().enums:
        parts.append("One per line.")
    return " ".join(part for part in parts if part)


def field_for(slot: Slot) -> forms.Field | None:
    """The form field of a slot, or None for nested classes (formsets handle those)."""
    field = _field_for(slot)
    if field is not None and slot.required:
        field.widget.attrs["aria-required"] = "true"
        field.rembi_required = True  # type: ignore[attr-defined]
    return field


def _field_for(slot: Slot) -> forms.Field | None:
    schema = rembi_schema()
    common: dict[str, Any] = {"required": False, "label": slot.label, "help_text": _help(slot)}
    if slot.name in TERM_SLOTS:
        return OntologyTermField(ontologies=TERM_SLOTS[slot.name], **common)
    if schema.is_class(slot.range):
        return None
    if schema.is_enum(slot.range):
        choices = [(value, value.replace("_", " ")) for value, _ in schema.enums[slot.range]]
        if slot.multivalued:
            return forms.MultipleChoiceField(choices=choices, widget=forms.CheckboxSelectMultiple, **common)
        return forms.ChoiceField(choices=[("", "—"), *choices], **common)
    validators = [RegexValidator(slot.pattern, message=slot.pattern_help or "This value has the wrong form.")]
    validators = validators if slot.pattern else []
    if slot.range == "integer":
        lowest = None if slot.minimum is None else int(slot.minimum)
        highest = None if slot.maximum is None else int(slot.maximum)
        return forms.IntegerField(min_value=lowest, max_value=highest, **common)
    if slot.range == "float":
        return forms.FloatField(min_value=slot.minimum, max_value=slot.maximum, **common)
    if slot.multivalued:
        return LinesField(item_validators=validators, **common)
    long_text = slot.name.endswith("description") or slot.name in _LONG_TEXT
    widget = forms.Textarea(attrs={"rows": 3}) if long_text else forms.TextInput
    return forms.CharField(validators=validators, widget=widget, **common)


def _empty(value: Any) -> bool:
    return value in (None, "", [], {})


class RecordForm(forms.Form):
    """A form for one record of a REMBI class; subclasses are made by form_class_for()."""

    schema_class: ClassVar[SchemaClass]
    flattened: ClassVar[dict[str, SchemaClass]] = {}

    def __init__(self, *args: Any, record: dict[str, Any] | None = None, **kwargs: Any) -> None:
        record = record or {}
        kwargs.setdefault("initial", self.initial_from(record))
        super().__init__(*args, **kwargs)
        self.nested = {
            slot.name: nested_formset(
                slot, self.data or None, record.get(slot.name) or [], self.add_prefix(slot.name)
            )
            for slot in self.schema_class.slots
            if rembi_schema().is_class(slot.range)
            and slot.multivalued
            and slot.name not in TERM_SLOTS
            and slot.name not in self.flattened
        }

    @classmethod
    def initial_from(cls, record: dict[str, Any]) -> dict[str, Any]:
        initial: dict[str, Any] = {}
        for slot in cls.schema_class.slots:
            value = record.get(slot.name)
            if slot.name in cls.flattened and isinstance(value, list) and value:
                for inner in cls.flattened[slot.name].slots:
                    initial[f"{slot.name}{_FLAT_SEPARATOR}{inner.name}"] = value[0].get(inner.name)
            elif slot.name == "image_format" and isinstance(value, dict):
                initial[slot.name] = value.get("term_id")
            elif slot.name == "ncbi_id" and isinstance(value, str):
                initial[slot.name] = curie_to_iri(value)
            else:
                initial[slot.name] = value
        return initial

    @property
    def nested_sections(self) -> list[tuple[Slot, forms.BaseFormSet[Any]]]:
        return [(self.schema_class.slot(name), formset) for name, formset in self.nested.items()]

    def is_valid(self) -> bool:
        valid = super().is_valid()
        return all(formset.is_valid() for formset in self.nested.values()) and valid

    @property
    def has_errors(self) -> bool:
        """Errors in the form's own fields or in any nested entry (an author's ORCID iD)."""
        return bool(self.errors) or any(formset.total_error_count() for formset in self.nested.values())

    def to_record(self) -> dict[str, Any]:
        """The cleaned values as a JSON record, empty values left out."""
        record: dict[str, Any] = {}
        for slot in self.schema_class.slots:
            if slot.name in self.nested:
                value: Any = [
                    item
                    for form in self.nested[slot.name].forms
                    if form.has_changed() and not form.cleaned_data.get("DELETE")
                    for item in [form.to_record()]
                    if item
                ]
            elif slot.name in self.flattened:
                inner = {
                    part.name: self.cleaned_data.get(f"{slot.name}{_FLAT_SEPARATOR}{part.name}")
                    for part in self.flattened[slot.name].slots
                }
                inner = {k: v for k, v in inner.items() if not _empty(v)}
                value = [inner] if inner else []
            else:
                value = self.cleaned_data.get(slot.name)
                value = self.term_value(slot, value)
            if not _empty(value):
                record[slot.name] = value
        picked = self.cleaned_data.get(IMAGING_METHOD_PICKER)
        if picked:
            term = term_by_iri(picked, ontologies=[Ontology.FBBI])
            if term is not None:
                record["fbbi_id"] = list(dict.fromkeys([*record.get("fbbi_id", []), term.curie]))
                names = record.get("imaging_method_name", [])
                record["imaging_method_name"] = list(dict.fromkeys([*names, term.label]))
        return record

    @staticmethod
    def term_value(slot: Slot, value: Any) -> Any:
        if slot.name not in TERM_SLOTS or _empty(value):
            return value
        term = term_by_iri(value, ontologies=TERM_SLOTS[slot.name])
        if term is None:
            return value
        if slot.name == "image_format":
            return {"term_id": term.iri, "label": term.label}
        return term.curie


def curie_to_iri(curie: str) -> str:
    prefix, _, local = curie.partition(":")
    if prefix == "NCBITaxon":
        return f"http://purl.obolibrary.org/obo/NCBITaxon_{local}"
    return curie


def form_class_for(class_name: str, *, nested: bool = False) -> type[RecordForm]:
    """The form class of a REMBI class, generated from the schema."""
    schema = rembi_schema()
    schema_class = schema.classes[class_name]
    fields: dict[str, Any] = {}
    flattened: dict[str, SchemaClass] = {}
    for slot in schema_class.slots:
        if schema.is_class(slot.range) and slot.name not in TERM_SLOTS:
            if nested:  # a class inside a nested form: edit its first item in place
                inner_class = schema.classes[slot.range]
                flattened[slot.name] = inner_class
                for inner in inner_class.slots:
                    field = field_for(inner)
                    if field is not None:
                        field.required = False
                        field.label = f"{slot.label}: {inner.label.lower()}"
                        fields[f"{slot.name}{_FLAT_SEPARATOR}{inner.name}"] = field
            continue
        field = field_for(slot)
        if field is not None:
            fields[slot.name] = field
    if class_name == "ImageAcquisition":
        fields[IMAGING_METHOD_PICKER] = OntologyTermField(
            ontologies=[Ontology.FBBI],
            required=False,
            label="Add an imaging method",
            help_text="Search FBbi; the chosen method is added to the names and FBbi ids above.",
        )
    attributes = {**fields, "schema_class": schema_class, "flattened": flattened}
    return type(f"{class_name}Form", (RecordForm,), attributes)


def nested_formset(slot: Slot, data: Any, items: list[dict[str, Any]], prefix: str) -> forms.BaseFormSet[Any]:
    form_class = form_class_for(rembi_schema().classes[slot.range].name, nested=True)
    formset_class = forms.formset_factory(form_class, extra=1, can_delete=True, min_num=0)
    initial = [form_class.initial_from(item) for item in items]
    return formset_class(data, initial=initial, prefix=prefix)
