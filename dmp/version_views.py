"""Pages for a plan's versions: named snapshots, comparing any two states, restoring one, the
history of every change, and moving the plan to a newer version of its template."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_http_methods, require_POST

from accounts.requests import authenticated_user
from dmp import selectors, versions
from dmp.models import Plan, PlanSnapshot, Template
from projects import access

HISTORY_PAGE_SIZE = 100


def _version(plan: Plan, raw: str) -> Plan | PlanSnapshot:
    found = versions.version_lookup(plan, raw)
    if found is None:
        raise Http404("This plan has no such version.")
    return found


def _newer_template(plan: Plan) -> Template | None:
    newest = versions.newest_template(plan.template)
    return newest if newest.pk != plan.template_id else None


def _context(plan: Plan, project_access: access.ProjectAccess, **extra: object) -> dict[str, object]:
    return {"plan": plan, "project": plan.project, "access": project_access, **extra}


@login_required
def plan_versions(request: HttpRequest, pk: int) -> HttpResponse:
    plan, project_access = selectors.plan_for_user(request.user, pk)
    snapshots = plan.snapshots.select_related("template", "created_by")
    return render(
        request,
        "dmp/versions_list.html",
        _context(plan, project_access, snapshots=snapshots, newest=_newer_template(plan)),
    )


@login_required
@require_POST
def snapshot_new(request: HttpRequest, pk: int) -> HttpResponse:
    plan, _ = selectors.plan_for_user(request.user, pk, needs=access.EDIT)
    try:
        snapshot = versions.snapshot_create(
            plan=plan, name=request.POST.get("name", ""), user=authenticated_user(request)
        )
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    else:
        messages.success(request, f"Version “{snapshot.name}” saved.")
    return redirect("dmp:plan_versions", pk=plan.pk)


@login_required
def plan_diff(request: HttpRequest, pk: int) -> HttpResponse:
    plan, project_access = selectors.plan_for_user(request.user, pk)
    newest_snapshot = plan.snapshots.first()
    default_from = str(newest_snapshot.pk) if newest_snapshot else "current"
    old = _version(plan, request.GET.get("from", default_from))
    new = _version(plan, request.GET.get("to", "current"))
    return render(
        request,
        "dmp/versions_diff.html",
        _context(
            plan,
            project_access,
            diff=versions.snapshot_diff(old=old, new=new),
            snapshots=plan.snapshots.all(),
        ),
    )


@login_required
@require_http_methods(["GET", "POST"])
def snapshot_restore(request: HttpRequest, pk: int, snapshot_pk: int) -> HttpResponse:
    """GET asks for confirmation and shows what would change; POST restores."""
    plan, project_access = selectors.plan_for_user(request.user, pk, needs=access.EDIT)
    snapshot = get_object_or_404(plan.snapshots.select_related("template"), pk=snapshot_pk)
    if request.method != "POST":
        diff = versions.snapshot_diff(old=plan, new=snapshot)
        return render(
            request, "dmp/versions_restore.html", _context(plan, project_access, snapshot=snapshot, diff=diff)
        )
    try:
        report = versions.snapshot_restore(snapshot=snapshot, user=authenticated_user(request))
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
        return redirect("dmp:plan_versions", pk=plan.pk)
    plan.refresh_from_db()
    return render(
        request, "dmp/versions_restore.html", _context(plan, project_access, snapshot=snapshot, report=report)
    )


@login_required
def plan_history(request: HttpRequest, pk: int) -> HttpResponse:
    plan, project_access = selectors.plan_for_user(request.user, pk)
    question = request.GET.get("question", "")
    entries = versions.plan_history(plan, question_key=question)
    page = Paginator(entries, HISTORY_PAGE_SIZE).get_page(request.GET.get("page"))
    return render(
        request,
        "dmp/versions_history.html",
        _context(
            plan,
            project_access,
            page=page,
            question=question,
            questions=versions.history_questions(plan),
        ),
    )


@login_required
@require_http_methods(["GET", "POST"])
def plan_upgrade(request: HttpRequest, pk: int) -> HttpResponse:
    """GET previews what would carry over to the newest template version; POST upgrades."""
    plan, project_access = selectors.plan_for_user(request.user, pk, needs=access.EDIT)
    if request.method != "POST":
        try:
            preview = versions.upgrade_preview(plan)
        except ValidationError:
            preview = None
        return render(request, "dmp/versions_upgrade.html", _context(plan, project_access, preview=preview))
    try:
        report = versions.template_upgrade(plan=plan, user=authenticated_user(request))
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
        return redirect("dmp:plan_upgrade", pk=plan.pk)
    plan.refresh_from_db()
    return render(request, "dmp/versions_upgrade.html", _context(plan, project_access, report=report))


@login_required
def template_notice(request: HttpRequest, pk: int) -> HttpResponse:
    """The plan sidebar's note that a newer version of its template exists (loaded after the page)."""
    plan, project_access = selectors.plan_for_user(request.user, pk)
    return render(
        request, "dmp/versions_notice.html", _context(plan, project_access, newest=_newer_template(plan))
    )
