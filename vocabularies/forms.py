from __future__ import annotations

from collections.abc import Collection
from typing import Any

from django import forms
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from vocabularies import selectors
from vocabularies.models import Ontology
from vocabularies.widgets import TermAutocompleteWidget


class OntologyTermField(forms.CharField):
    """A term of one of ``ontologies``, chosen with TermAutocompleteWidget; cleans to the term's IRI.

    Obsolete terms are refused unless ``allow_obsolete`` is set (for example to re-save a record
    that already uses one).
    """

    default_error_messages = {
        "unknown": _(
            "“%(value)s” is not a term of %(ontologies)s. Type a few letters and choose a suggestion."
        ),
        "obsolete": _("“%(label)s” (%(curie)s) is obsolete in %(ontology)s; choose a current term."),
    }

    def __init__(self, *, ontologies: Collection[str], allow_obsolete: bool = False, **kwargs: Any) -> None:
        unknown = set(ontologies) - set(Ontology.values)
        if not ontologies or unknown:
            raise ValueError(
                f"OntologyTermField needs ontologies from {Ontology.values}, not {sorted(unknown)}."
            )
        self.ontologies = [Ontology(name) for name in ontologies]
        self.allow_obsolete = allow_obsolete
        kwargs.setdefault("widget", TermAutocompleteWidget(ontologies=self.ontologies))
        kwargs.setdefault("max_length", 500)
        super().__init__(**kwargs)

    def validate(self, value: Any) -> None:
        super().validate(value)
        if value in self.empty_values:
            return
        term = selectors.term_by_iri(value, ontologies=self.ontologies)
        if term is None:
            names = ", ".join(str(Ontology(name).label) for name in self.ontologies)
            raise ValidationError(
                self.error_messages["unknown"], code="unknown", params={"value": value, "ontologies": names}
            )
        if term.obsolete and not self.allow_obsolete:
            raise ValidationError(
                self.error_messages["obsolete"],
                code="obsolete",
                params={"label": term.label, "curie": term.curie, "ontology": term.get_ontology_display()},
            )


class TermOptionsQuery(forms.Form):
    """The parameters of the autocomplete endpoint, as the widget sends them."""

    q = forms.CharField(required=False, max_length=200)
    ontology = forms.MultipleChoiceField(
        choices=Ontology.choices,
        required=False,
        error_messages={
            "invalid_choice": f"Unknown ontology “%(value)s”; choose from {', '.join(Ontology.values)}."
        },
    )
    # Becomes the id of the rendered listbox, which the combobox names in aria-controls.
    listbox = forms.RegexField(regex=r"^[A-Za-z][\w-]{0,99}$")
