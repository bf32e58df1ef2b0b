from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from workers.selectors import task_status_summary


@login_required
def task_status(request: HttpRequest) -> HttpResponse:
    # Task arguments can name private projects, so only site staff (facility IT) see them.
    if not request.user.is_staff:
        raise PermissionDenied("Only site staff can see the task status page.")
    return render(request, "workers/task_status.html", {"summary": task_status_summary()})
