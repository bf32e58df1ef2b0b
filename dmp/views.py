from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from projects.models import Project
from projects.selectors import project_list


@login_required
def plans_index(request: HttpRequest) -> HttpResponse:
    projects = project_list(user=request.user, status=Project.Status.ACTIVE)
    return render(request, "dmp/plans_index.html", {"projects": projects})
