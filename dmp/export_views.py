"""Downloads of a plan as PDF, HTML or Markdown, for anyone who may read the plan."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.utils.http import content_disposition_header

from dmp import exports, selectors


def export_response(export: exports.Export) -> HttpResponse:
    response = HttpResponse(export.content, content_type=export.content_type)
    response["Content-Disposition"] = content_disposition_header(as_attachment=True, filename=export.filename)
    return response


@login_required
def plan_export(request: HttpRequest, pk: int, kind: str) -> HttpResponse:
    plan, _ = selectors.plan_for_user(request.user, pk)
    if kind not in exports.KINDS:
        raise Http404("Plans are exported as .pdf, .html or .md.")
    return export_response(exports.plan_export(plan=plan, kind=kind))
