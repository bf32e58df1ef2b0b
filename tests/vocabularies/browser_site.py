"""URLs for test_widget_browser's server: the whole site plus a sample form that uses the widget.

No FAIRlight page uses TermAutocompleteWidget yet; the server runs with
``DJANGO_SETTINGS_MODULE=tests.vocabularies.browser_settings``, which points ROOT_URLCONF here.
"""

from __future__ import annotations

from django import forms
from django.http import HttpRequest, HttpResponse
from django.template import engines
from django.urls import path

from fairlight.urls import urlpatterns as site_urlpatterns
from vocabularies.forms import OntologyTermField


class SampleForm(forms.Form):
    method = OntologyTermField(ontologies=["fbbi"], label="Imaging method")
    organism = OntologyTermField(ontologies=["ncbitaxon"], label="Organism")


PAGE = engines["django"].from_string(
    """{% extends "base.html" %}{% block content %}{{ form.media }}
<form method="post">{% csrf_token %}{{ form.as_div }}<button type="submit">Save</button></form>
{% if saved %}<output id="saved">{{ saved.method }} {{ saved.organism }}</output>{% endif %}
{% endblock %}"""
)


def sample_form(request: HttpRequest) -> HttpResponse:
    form = SampleForm(request.POST or None)
    saved = form.cleaned_data if request.method == "POST" and form.is_valid() else None
    return HttpResponse(PAGE.render({"form": form, "saved": saved}, request))


urlpatterns = [*site_urlpatterns, path("sample-form/", sample_form)]
