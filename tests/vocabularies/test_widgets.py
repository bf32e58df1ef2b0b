from __future__ import annotations

import re

import pytest
from django import forms
from django.test import Client

from tests.conftest import make_user
from vocabularies.forms import OntologyTermField

CONFOCAL = "http://purl.obolibrary.org/obo/FBbi_00000251"
MOUSE = "http://purl.obolibrary.org/obo/NCBITaxon_10090"
DUMMY = "http://purl.obolibrary.org/obo/FBbi_00000000"  # FBbi's deprecated "dummy term"
LISTBOX_ATTRIBUTES = 'class="term-listbox" aria-label="Suggestions"'


class ImagingForm(forms.Form):
    method = OntologyTermField(ontologies=["fbbi", "edam_bioimaging"], label="Imaging method")
    organism = OntologyTermField(ontologies=["ncbitaxon"], required=False, help_text="Start typing a name.")


@pytest.fixture
def client(ontologies: None) -> Client:
    client = Client()
    client.force_login(make_user("annotator"))
    return client


def test_the_widget_renders_a_labelled_combobox_and_a_hidden_iri(ontologies: None) -> None:
    form = ImagingForm(initial={"method": CONFOCAL})
    html = form.as_div()
    assert '<label for="id_method">Imaging method:</label>' in html
    assert f'<input type="hidden" name="method" value="{CONFOCAL}" data-term-iri>' in html
    combobox = re.search(r'<input type="text" name="method_label"[^>]*>', html)
    assert combobox is not None
    for attribute in (
        'value="confocal microscopy"',
        'role="combobox"',
        'aria-autocomplete="list"',
        'aria-expanded="false"',
        'aria-controls="id_method-listbox"',
        'hx-get="/vocabularies/terms/?ontology=fbbi&amp;ontology=edam_bioimaging&amp;listbox=id_method-listbox"',
        'hx-target="#id_method-listbox"',
        'id="id_method"',
        "required",
    ):
        assert attribute in combobox.group(0), attribute
    assert f'<ul role="listbox" id="id_method-listbox" {LISTBOX_ATTRIBUTES} hidden>' in html
    # Help text is announced with the combobox.
    organism = re.search(r'<input type="text" name="organism_label"[^>]*>', html)
    assert organism is not None
    assert 'aria-describedby="id_organism_helptext"' in organism.group(0)
    # The CSP forbids inline code: behaviour and looks come from files in the form's media.
    assert "<script" not in html
    assert "style=" not in html
    media = str(form.media)
    assert '<script src="/static/js/term_autocomplete.js" defer></script>' in media
    assert 'href="/static/css/term_autocomplete.css"' in media


def test_a_chosen_term_cleans_to_its_iri(ontologies: None) -> None:
    form = ImagingForm({"method": CONFOCAL, "method_label": "confocal microscopy", "organism": MOUSE})
    assert form.is_valid(), form.errors
    assert form.cleaned_data == {"method": CONFOCAL, "organism": MOUSE}
    optional_left_empty = ImagingForm({"method": CONFOCAL, "organism": "", "organism_label": ""})
    assert optional_left_empty.is_valid()
    assert optional_left_empty.cleaned_data["organism"] == ""


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({}, "This field is required."),
        (
            {"method_label": "confocl"},
            "“confocl” is not a term of FBbi imaging methods, EDAM-bioimaging. "
            "Type a few letters and choose a suggestion.",
        ),
        ({"method": MOUSE}, f"“{MOUSE}” is not a term of FBbi imaging methods, EDAM-bioimaging."),
        (
            {"method": DUMMY},
            "“dummy term” (FBbi:00000000) is obsolete in FBbi imaging methods; choose a current term.",
        ),
    ],
)
def test_a_value_that_names_no_allowed_term_is_refused_clearly(
    ontologies: None, data: dict[str, str], message: str
) -> None:
    form = ImagingForm(data)
    assert not form.is_valid()
    assert message in form.errors["method"][0]


def test_obsolete_terms_can_be_allowed(ontologies: None) -> None:
    field = OntologyTermField(ontologies=["fbbi"], allow_obsolete=True)
    assert field.clean(DUMMY) == DUMMY


def test_typed_text_is_shown_again_after_an_error(ontologies: None) -> None:
    form = ImagingForm({"method_label": "confocl"})
    html = form["method"].as_widget()
    assert '<input type="hidden" name="method" value="" data-term-iri>' in html
    assert 'value="confocl"' in html
    assert 'aria-invalid="true"' in str(form["method"])


def test_an_unknown_ontology_is_a_programming_error() -> None:
    with pytest.raises(ValueError, match="not \\['genes'\\]"):
        OntologyTermField(ontologies=["genes"])


def test_the_endpoint_returns_a_listbox_of_options(client: Client) -> None:
    response = client.get(
        "/vocabularies/terms/", {"q": "confocal", "ontology": "fbbi", "listbox": "id_method-listbox"}
    )
    html = response.content.decode()
    assert response.status_code == 200
    assert html.lstrip().startswith(f'<ul role="listbox" id="id_method-listbox" {LISTBOX_ATTRIBUTES}>')
    options = re.findall(r'<li role="option" id="id_method-listbox-\d+" [^>]*data-iri="([^"]+)"', html)
    assert options[0] == CONFOCAL
    assert 1 < len(options) <= 10
    assert 'data-label="confocal microscopy"' in html
    assert "FBbi:00000251 · FBbi imaging methods" in html
    assert "<script" not in html


def test_the_endpoint_stays_quiet_for_short_queries_and_says_when_nothing_matches(client: Client) -> None:
    short = client.get("/vocabularies/terms/", {"q": "c", "listbox": "x"}).content.decode()
    assert f'id="x" {LISTBOX_ATTRIBUTES} hidden>' in short
    assert "option" not in short
    none = client.get("/vocabularies/terms/", {"q": "qwertyuiop", "listbox": "x"}).content.decode()
    assert 'aria-disabled="true" class="term-none">No term matches “qwertyuiop”.</li>' in none


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"q": "mouse", "ontology": "genes", "listbox": "x"}, "Unknown ontology “genes”; choose from"),
        ({"q": "mouse", "listbox": '"><script>'}, "Enter a valid value."),
        ({"q": "mouse"}, "This field is required."),
    ],
)
def test_the_endpoint_refuses_bad_parameters(client: Client, params: dict[str, str], message: str) -> None:
    response = client.get("/vocabularies/terms/", params)
    assert response.status_code == 400
    assert message in response.content.decode()


def test_the_endpoint_needs_a_signed_in_user(ontologies: None) -> None:
    response = Client().get("/vocabularies/terms/", {"q": "mouse", "listbox": "x"})
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/")


def test_the_widget_script_and_styles_are_served(db: None) -> None:
    for path in ("/static/js/term_autocomplete.js", "/static/css/term_autocomplete.css"):
        response = Client().get(path)
        assert response.status_code == 200, path
        b"".join(response.streaming_content)  # type: ignore[attr-defined]
