"""Share links: the managers' page on a dataset, and the public page and downloads behind a link.

The public side needs no login; the key in the address is the only credential. Its responses
send no Referer onward (the key would leak into other sites' logs), ask search engines not to
index them and are not cached.
"""

from __future__ import annotations

import datetime

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, HttpResponse, StreamingHttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.http import content_disposition_header
from django.views.decorators.http import require_GET, require_POST

from accounts.requests import authenticated_user
from metadata import sharing
from metadata.models import Dataset, ImageFile, ShareLink
from projects import access


class ShareLinkForm(forms.Form):
    note = forms.CharField(
        label="Who it is for",
        max_length=300,
        required=False,
        help_text="Shown to managers only, e.g. Dr. Rossi (Milan), sample data before an account.",
    )
    days = forms.IntegerField(
        label="Valid for (days)",
        min_value=1,
        max_value=sharing.MAX_DAYS,
        initial=sharing.DEFAULT_DAYS,
        help_text=f"At most {sharing.MAX_DAYS} days; you can revoke the link sooner.",
    )
    paths = forms.CharField(
        label="Files to share",
        required=False,
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text=f"Paths as in the file table, one per line (at most {sharing.MAX_FILES}). "
        "Leave empty to share the description only.",
    )


def _managed_dataset(request: HttpRequest, pk: int) -> tuple[Dataset, access.ProjectAccess]:
    dataset = Dataset.objects.select_related("project", "storage_root").filter(pk=pk).first()
    if dataset is None:
        raise Http404("No such dataset.")
    return dataset, access.project_for_user(request.user, dataset.project_id, needs=sharing.SHARE_ROLE)


@login_required
def dataset_sharing(request: HttpRequest, pk: int) -> HttpResponse:
    """The dataset's share links and their access log; POST makes a new link."""
    dataset, project_access = _managed_dataset(request, pk)
    form = ShareLinkForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            link, key = sharing.share_link_create(
                dataset=dataset,
                user=authenticated_user(request),
                expires_at=timezone.now() + datetime.timedelta(days=data["days"]),
                note=data["note"],
                paths=data["paths"].splitlines(),
            )
        except ValidationError as exc:
            for field, errors in exc.message_dict.items():
                form.add_error(
                    "paths" if field == "files" else "days" if field == "expires_at" else None, errors
                )
        else:
            url = request.build_absolute_uri(reverse("share:page", args=[key]))
            return render(
                request,
                "metadata/share_created.html",
                {"dataset": dataset, "project": dataset.project, "link": link, "url": url},
            )
    template = "metadata/share_manage.html"
    if request.headers.get("HX-Request") and request.headers.get("HX-Target") == "sharing":
        template += "#panel"
    now = timezone.now()
    links = [(link, sharing.link_state(link, now=now)) for link in sharing.links_of(dataset)]
    return render(
        request,
        template,
        {
            "dataset": dataset,
            "project": dataset.project,
            "access": project_access,
            "form": form,
            "links": links,
            "log": sharing.access_log(dataset),
            "max_days": sharing.MAX_DAYS,
        },
        status=400 if form.errors else 200,
    )


@login_required
@require_POST
def share_link_revoke(request: HttpRequest, pk: int, link_pk: int) -> HttpResponse:
    dataset, _ = _managed_dataset(request, pk)
    link = get_object_or_404(
        ShareLink.objects.select_related("dataset__project"), pk=link_pk, dataset=dataset
    )
    sharing.share_link_revoke(link=link, user=authenticated_user(request))
    messages.success(request, f"The link {link.prefix}… was revoked; it shows nothing from now on.")
    return redirect(f"{dataset.get_absolute_url()}#sharing")


# The public side ---------------------------------------------------------------------------------


def _private(response: HttpResponse | StreamingHttpResponse) -> HttpResponse | StreamingHttpResponse:
    response["Referrer-Policy"] = "no-referrer"
    response["X-Robots-Tag"] = "noindex, nofollow"
    response["Cache-Control"] = "no-store"
    return response


def _visit(request: HttpRequest) -> sharing.Visit:
    return sharing.Visit(
        ip=request.META.get("REMOTE_ADDR") or None, user_agent=request.headers.get("User-Agent", "")
    )


def _link(token: str) -> ShareLink:
    link = sharing.link_for_key(token)
    if link is None:
        raise Http404("No such link.")
    return link


def _gone(request: HttpRequest, exc: sharing.LinkGone) -> HttpResponse | StreamingHttpResponse:
    return _private(
        render(request, "metadata/share_gone.html", {"reason": str(exc), "state": exc.state}, status=410)
    )


@require_GET
def share_page(request: HttpRequest, token: str) -> HttpResponse | StreamingHttpResponse:
    link = _link(token)
    try:
        sharing.page_visit(link, _visit(request))
    except sharing.LinkGone as exc:
        return _gone(request, exc)
    dataset = link.dataset
    return _private(
        render(
            request,
            "metadata/share_page.html",
            {
                "link": link,
                "token": token,
                "dataset": dataset,
                "modules": sharing.rembi_summary(dataset),
                "files": sharing.shared_files(link),
            },
        )
    )


@require_GET
def share_file(request: HttpRequest, token: str, file_pk: int) -> HttpResponse | StreamingHttpResponse:
    link = _link(token)
    try:
        download = sharing.file_download(link, _visit(request), file_id=file_pk)
    except sharing.LinkGone as exc:
        return _gone(request, exc)
    except ImageFile.DoesNotExist:
        raise Http404("This link does not share that file.") from None
    except sharing.FileUnavailable as exc:
        raise Http404(str(exc)) from None
    response = StreamingHttpResponse(download.chunks, content_type=download.content_type)
    response["Content-Disposition"] = content_disposition_header(as_attachment=True, filename=download.name)
    if download.size is not None:
        response["Content-Length"] = str(download.size)
    return _private(response)
