"""The web form that imports an maDMP file as a new project and plan (form on the plans page)."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.template.defaultfilters import filesizeformat
from django.views.decorators.csrf import csrf_exempt, csrf_protect
from django.views.decorators.http import require_POST

from accounts.requests import authenticated_user
from dmp.madmp_import import DEFAULT_TEMPLATE, MAX_BYTES, check_size, madmp_read, plan_import_madmp
from metadata.uploads import SizeLimitUploadHandler


@login_required
@require_POST
@csrf_exempt  # the upload handler must be set before CSRF reads the body; csrf_protect below checks it
def plan_import(request: HttpRequest) -> HttpResponse:
    request.upload_handlers = [SizeLimitUploadHandler(request, MAX_BYTES)]
    return _plan_import(request)


@csrf_protect
def _plan_import(request: HttpRequest) -> HttpResponse:
    upload = request.FILES.get("file")
    try:
        if getattr(request, "upload_too_large", False):
            raise ValidationError(
                f"The file is larger than {filesizeformat(MAX_BYTES)}, the limit for an maDMP file."
            )
        if upload is None:
            raise ValidationError("Choose an maDMP file (JSON) to import.")
        check_size(upload.size or 0)
        plan = plan_import_madmp(
            document=madmp_read(upload.read()),
            user=authenticated_user(request),
            template_key=request.POST.get("template") or DEFAULT_TEMPLATE,
        )
    except ValidationError as exc:
        messages.error(request, "Nothing was imported. " + " ".join(exc.messages))
        return redirect("dmp:index")
    messages.success(
        request,
        f"Imported “{plan}” with {len(plan.blocks)} planned datasets into the new project “{plan.project}”.",
    )
    return redirect("dmp:plan_detail", pk=plan.pk)
