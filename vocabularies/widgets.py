from __future__ import annotations

from collections.abc import Collection, Mapping
from typing import Any

from django import forms
from django.forms import Script
from django.urls import reverse
from django.utils.datastructures import MultiValueDict
from django.utils.http import urlencode

from vocabularies import selectors
from vocabularies.models import OntologyTerm

LABEL_SUFFIX = "_label"


class TermAutocompleteWidget(forms.Widget):
    """A text box that suggests ontology terms as you type and submits the chosen term's IRI.

    It renders a hidden input named like the field, holding the IRI, and a visible combobox named
    ``<name>_label`` showing the label. htmx fetches suggestions from ``vocabularies:term_options``;
    static/js/term_autocomplete.js moves through them with the arrow keys and fills the hidden input
    on Enter or click. Pages that use it render ``{{ form.media }}`` (the CSP allows no inline script).
    """

    template_name = "vocabularies/widgets/term_autocomplete.html"

    class Media:
        js = [Script("js/term_autocomplete.js", defer=True)]
        css = {"all": ["css/term_autocomplete.css"]}

    def __init__(
        self,
        *,
        ontologies: Collection[str] = (),
        attrs: dict[str, Any] | None = None,
        known: Mapping[str, OntologyTerm] | None = None,
    ) -> None:
        super().__init__(attrs)
        self.ontologies = list(ontologies)
        # Terms a page has loaded in one query for all its widgets, by IRI (then nothing else is
        # looked up); None: look the value up.
        self.known = known

    def get_context(self, name: str, value: Any, attrs: dict[str, Any] | None) -> dict[str, Any]:
        context = super().get_context(name, value, attrs)
        widget = context["widget"]
        listbox_id = f"{widget['attrs'].get('id') or 'term-' + name}-listbox"
        submitted = widget["value"] or ""
        term = None
        if submitted and self.known is not None:
            found = self.known.get(submitted)
            term = found if found is not None and found.ontology in self.ontologies else None
        elif submitted:
            term = selectors.term_by_iri(submitted, ontologies=self.ontologies)
        # After a failed submission the value may be text that names no term: show it again as typed.
        widget["iri"] = term.iri if term else ""
        widget["text"] = term.label if term else submitted
        widget["label_name"] = name + LABEL_SUFFIX
        params = {"ontology": self.ontologies, "listbox": listbox_id}
        widget["search_url"] = f"{reverse('vocabularies:term_options')}?{urlencode(params, doseq=True)}"
        context["listbox_id"] = listbox_id
        context["terms"] = []
        return context

    def format_value(self, value: Any) -> str | None:
        return str(value) if value else None

    def value_from_datadict(self, data: Mapping[str, Any], files: MultiValueDict[str, Any], name: str) -> str:
        # Text typed without choosing a suggestion comes back as the value, so the field can say
        # which text names no term instead of only "this field is required".
        iri = str(data.get(name) or "").strip()
        return iri or str(data.get(name + LABEL_SUFFIX) or "").strip()

    def value_omitted_from_data(
        self, data: Mapping[str, Any], files: MultiValueDict[str, Any], name: str
    ) -> bool:
        return name not in data and name + LABEL_SUFFIX not in data
