"""The facility dashboard for data stewards (web page and /api/v1/facilities/{id}/dashboard/).
Anyone who does not steward the facility gets a 404, as for a project they cannot see."""

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

from projects import access
from repositories import oversight
from repositories.models import Submission


@login_required
def facility_index(request: HttpRequest) -> HttpResponse:
    return render(
        request,
        "projects/facility_dashboard.html",
        {"facilities": access.facilities_stewarded(request.user).order_by("name")},
    )


@login_required
def facility_dashboard(request: HttpRequest, pk: int) -> HttpResponse:
    facility = access.facility_for_steward(request.user, pk)
    return render(
        request,
        "projects/facility_dashboard.html",
        {"facility": facility, "dashboard": oversight.facility_dashboard(facility)},
    )


class UsageSerializer(serializers.Serializer[Any]):
    name = serializers.CharField(source="label")
    project = serializers.IntegerField(source="project_id", allow_null=True)
    bytes = serializers.IntegerField()
    files = serializers.IntegerField()
    datasets = serializers.IntegerField()


class RootUsageSerializer(serializers.Serializer[Any]):
    name = serializers.CharField(source="root.name")
    quota_bytes = serializers.IntegerField(source="quota", allow_null=True)
    used_bytes = serializers.IntegerField(source="used")
    files = serializers.IntegerField()
    percent = serializers.FloatField(allow_null=True)
    status = serializers.ChoiceField(choices=["ok", "near", "over", "no quota"])
    teams = UsageSerializer(many=True)
    projects = UsageSerializer(many=True)


class QuotaAlertSerializer(serializers.Serializer[Any]):
    project = serializers.IntegerField(source="project.project_id")
    title = serializers.CharField(source="project.label")
    bytes = serializers.IntegerField(source="project.bytes")
    storage_root = serializers.CharField(source="root.root.name")
    root_percent = serializers.FloatField(source="root.percent")
    status = serializers.CharField(source="root.status")


class UnverifiedSerializer(serializers.Serializer[Any]):
    dataset = serializers.IntegerField(source="dataset.pk")
    title = serializers.CharField(source="dataset.title")
    project = serializers.IntegerField(source="dataset.project_id")
    verify_state = serializers.CharField(source="dataset.verify_state")
    verified_at = serializers.DateTimeField(source="dataset.verified_at", allow_null=True)
    reason = serializers.CharField()


class PublishedSubmissionSerializer(serializers.ModelSerializer[Submission]):
    class Meta:
        model = Submission
        fields = ["id", "title", "target", "state", "accession", "doi", "release_date"]
        read_only_fields = fields


class PublishedProjectSerializer(serializers.Serializer[Any]):
    project = serializers.IntegerField(source="project_id")
    title = serializers.CharField()
    submissions = PublishedSubmissionSerializer(many=True)


class FacilityDashboardSerializer(serializers.Serializer[Any]):
    facility = serializers.IntegerField(source="facility.pk")
    used_bytes = serializers.IntegerField(source="used")
    quota_bytes = serializers.IntegerField(source="quota")
    roots = RootUsageSerializer(many=True)
    quota_alerts = QuotaAlertSerializer(many=True, source="alerts")
    unverified_count = serializers.IntegerField()
    unverified = UnverifiedSerializer(many=True, help_text=f"The first {oversight.UNVERIFIED_LISTED}.")
    published = PublishedProjectSerializer(many=True)


class FacilityDashboardView(APIView):
    """Storage against quotas, projects near or over quota, unverified copies and published data of
    a facility you steward."""

    @extend_schema(operation_id="facilities_dashboard", responses=FacilityDashboardSerializer)
    def get(self, request: Request, pk: int) -> Response:
        facility = access.facility_for_steward(request.user, pk)
        return Response(FacilityDashboardSerializer(oversight.facility_dashboard(facility)).data)
