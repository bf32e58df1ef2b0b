from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse, HttpResponseBadRequest
from django.shortcuts import render
from django.views.decorators.http import require_GET

from vocabularies import selectors
from vocabularies.forms import TermOptionsQuery
from vocabularies.search import normalize

OPTIONS_LIMIT = 10  # suggestions shown under the text box


@login_required
@require_GET
def term_options(request: HttpRequest) -> HttpResponse:
    """The suggestion listbox of TermAutocompleteWidget (an htmx fragment)."""
    params = TermOptionsQuery(request.GET)
    if not params.is_valid():
        errors = "; ".join(str(message) for messages in params.errors.values() for message in messages)
        return HttpResponseBadRequest(errors, content_type="text/plain; charset=utf-8")
    q = params.cleaned_data["q"]
    # Too short to search yet: an empty, hidden listbox, not an error, since the widget asks as you type.
    searchable = len(normalize(q)) >= selectors.MIN_QUERY_LENGTH
    terms = (
        selectors.term_search(q, ontologies=params.cleaned_data["ontology"] or None, limit=OPTIONS_LIMIT)
        if searchable
        else []
    )
    return render(
        request,
        "vocabularies/widgets/term_autocomplete.html#listbox",
        {"terms": terms, "query": q if searchable else "", "listbox_id": params.cleaned_data["listbox"]},
    )
