"""The project's journey as a page (also loaded into the project page) and as an API endpoint,
/api/v1/projects/{id}/journey/. Both are routed in fairlight/urls.py: they sit under the
project's addresses but are built here, because projects must not import dmp."""

from __future__ import annotations

from typing import Any

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from dmp import journey
from projects import access


@login_required
def project_journey(request: HttpRequest, pk: int) -> HttpResponse:
    project = access.project_for_user(request.user, pk).project
    template = "dmp/project_journey.html"
    if request.headers.get("HX-Request") and request.headers.get("HX-Target") == "journey":
        template += "#panel"
    return render(
        request,
        template,
        {"project": project, "journey": journey.project_journey(project, request.user)},
    )


class LinkSerializer(serializers.Serializer[Any]):
    text = serializers.CharField(source="label")
    url = serializers.CharField()


class BlockerSerializer(serializers.Serializer[Any]):
    text = serializers.CharField()
    link = LinkSerializer(allow_null=True)
    hard = serializers.BooleanField(help_text="True when it must be fixed (the step is blocked).")


class StepSerializer(serializers.Serializer[Any]):
    key = serializers.CharField()
    title = serializers.CharField()
    state = serializers.CharField(help_text=" | ".join(state.value for state in journey.StepState))
    summary = serializers.CharField()
    blockers = BlockerSerializer(many=True)
    more = serializers.IntegerField(help_text="Blockers beyond those listed.")
    action = LinkSerializer(allow_null=True, help_text="What moves the step on, if your role may do it.")
    action_needs = serializers.CharField(help_text="The role the action needs, when yours is too low.")
    place = LinkSerializer(allow_null=True)


class JourneySerializer(serializers.Serializer[Any]):
    project = serializers.IntegerField(source="project.pk")
    role = serializers.CharField()
    steps = StepSerializer(many=True)
    next_step = serializers.CharField(source="next_step.key", allow_null=True, default=None)
    next_action = LinkSerializer(allow_null=True)


class ProjectJourneyView(APIView):
    """The project's steps from plan to release, with what blocks each and the next action."""

    @extend_schema(operation_id="projects_journey", responses=JourneySerializer)
    def get(self, request: Request, pk: int) -> Response:
        project = access.project_for_user(request.user, pk).project
        return Response(JourneySerializer(journey.project_journey(project, request.user)).data)
