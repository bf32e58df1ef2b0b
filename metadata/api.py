"""REST API for datasets, their files and scans (/api/v1/datasets/)."""

from __future__ import annotations

import json

from django.core.exceptions import ValidationError as DjangoValidationError
from django.db.models import QuerySet
from django.http import Http404, HttpResponse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import exceptions, mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.pagination import CursorPagination
from rest_framework.request import Request
from rest_framework.response import Response

from accounts.requests import authenticated_user
from metadata import export, selectors, services
from metadata.models import FORMAT_CHOICES, Dataset, ImageFile, ScanRun
from projects import access
from projects.models import Project, StorageRoot


class DatasetSerializer(serializers.ModelSerializer[Dataset]):
    project = serializers.PrimaryKeyRelatedField(queryset=Project.objects.all())
    storage_root = serializers.SlugRelatedField(slug_field="name", queryset=StorageRoot.objects.all())

    class Meta:
        model = Dataset
        fields = [
            "id",
            "project",
            "title",
            "description",
            "storage_root",
            "relative_path",
            "want_md5",
            "status",
            "file_count",
            "total_bytes",
            "image_count",
            "error_count",
            "format_summary",
            "instruments",
            "objectives",
            "acquired_from",
            "acquired_to",
            "scanned_at",
            "created_at",
        ]
        read_only_fields = [
            f
            for f in fields
            if f not in ("project", "title", "description", "storage_root", "relative_path", "want_md5")
        ]


class ImageFileSerializer(serializers.ModelSerializer[ImageFile]):
    class Meta:
        model = ImageFile
        fields = [
            "id",
            "relative_path",
            "size_bytes",
            "file_count",
            "format",
            "is_image",
            "reader",
            "sha256",
            "md5",
            "instrument",
            "objective",
            "acquired_at",
            "metadata",
            "error_code",
            "error",
            "scanned_at",
        ]
        read_only_fields = fields


class ScanRunSerializer(serializers.ModelSerializer[ScanRun]):
    percent = serializers.SerializerMethodField()

    class Meta:
        model = ScanRun
        fields = [
            "id",
            "status",
            "created_at",
            "finished_at",
            "files_total",
            "files_done",
            "files_skipped",
            "files_failed",
            "bytes_total",
            "bytes_done",
            "percent",
            "message",
        ]
        read_only_fields = fields

    def get_percent(self, run: ScanRun) -> float:
        return round(selectors.scan_progress(run).percent, 2)


_FORMATS = {value for value, _ in FORMAT_CHOICES}


class FilePagination(CursorPagination):
    """Cursor pagination: constant cost on page 10,000 of a million-file dataset."""

    ordering = "relative_path"
    page_size = 100
    page_size_query_param = "page_size"
    max_page_size = 1000


class DatasetViewSet(
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    viewsets.GenericViewSet[Dataset],
):
    """Datasets of the projects you can see. Registering one needs the editor role and
    starts its scan."""

    serializer_class = DatasetSerializer
    queryset = Dataset.objects.none()

    def get_queryset(self) -> QuerySet[Dataset]:
        return selectors.datasets_visible_to(self.request.user).order_by("-created_at")

    def get_object(self) -> Dataset:
        dataset = (
            Dataset.objects.select_related("project", "storage_root").filter(pk=self.kwargs["pk"]).first()
        )
        if dataset is None:
            raise Http404("No such dataset.")
        writes = self.request.method not in ("GET", "HEAD", "OPTIONS")
        access.project_for_user(
            self.request.user, dataset.project_id, needs=access.EDIT if writes else access.VIEW
        )
        return dataset

    def perform_create(self, serializer: serializers.BaseSerializer[Dataset]) -> None:
        data = dict(serializer.validated_data)
        project = data.pop("project")
        access.require_role(self.request.user, project, access.EDIT)
        user = authenticated_user(self.request)
        try:
            dataset = services.dataset_register(project=project, user=user, **data)
        except DjangoValidationError as exc:
            raise exceptions.ValidationError(exc.message_dict) from None
        services.scan_start(dataset=dataset, user=user)
        serializer.instance = dataset

    @extend_schema(
        parameters=[
            # Not "format": DRF reads that parameter to choose the response renderer.
            OpenApiParameter("file_format", OpenApiTypes.STR, enum=[value for value, _ in FORMAT_CHOICES]),
            OpenApiParameter("errors", OpenApiTypes.BOOL, description="Only files with errors."),
            OpenApiParameter("instrument", OpenApiTypes.STR),
            OpenApiParameter(
                "path_prefix", OpenApiTypes.STR, description="Only paths starting with this, e.g. plate_01/."
            ),
            OpenApiParameter(
                "path_contains",
                OpenApiTypes.STR,
                description="Only paths containing this (any case). Slower than path_prefix on large "
                "datasets: it cannot use an index.",
            ),
        ],
        responses=ImageFileSerializer(many=True),
    )
    @action(
        detail=True, methods=["get"], pagination_class=FilePagination, serializer_class=ImageFileSerializer
    )
    def files(self, request: Request, pk: str) -> Response:
        dataset = self.get_object()
        params = request.query_params
        file_format = params.get("file_format", "")
        if file_format and file_format not in _FORMATS:
            raise exceptions.ValidationError(
                {"file_format": f"Unknown format {file_format!r}; use one of {', '.join(sorted(_FORMATS))}."}
            )
        files = selectors.dataset_files(
            dataset=dataset,
            format=file_format,
            errors_only=params.get("errors", "").lower() in ("1", "true", "yes"),
            instrument=params.get("instrument", ""),
            search=params.get("path_contains", ""),
            path_prefix=params.get("path_prefix", ""),
        )
        paginator = FilePagination()
        page = paginator.paginate_queryset(files, request, view=self)
        return paginator.get_paginated_response(ImageFileSerializer(page, many=True).data)

    @extend_schema(
        parameters=[
            OpenApiParameter("as", OpenApiTypes.STR, enum=["jsonld", "turtle"], description="Default jsonld.")
        ],
        responses={(200, "application/ld+json"): OpenApiTypes.OBJECT, (200, "text/turtle"): OpenApiTypes.STR},
    )
    @action(detail=True, methods=["get"], pagination_class=None)
    def rembi(self, request: Request, pk: str) -> HttpResponse:
        """The dataset's REMBI description as JSON-LD (compacted) or Turtle."""
        dataset = self.get_object()
        wanted = request.query_params.get("as", "jsonld")
        if wanted == "turtle":
            return HttpResponse(export.dataset_turtle(dataset), content_type="text/turtle; charset=utf-8")
        if wanted != "jsonld":
            raise exceptions.ValidationError({"as": "Use jsonld or turtle."})
        return HttpResponse(json.dumps(export.dataset_jsonld(dataset)), content_type="application/ld+json")

    @extend_schema(request=None, responses=ScanRunSerializer(many=True))
    @action(detail=True, methods=["get", "post"], serializer_class=ScanRunSerializer, pagination_class=None)
    def scans(self, request: Request, pk: str) -> Response:
        """GET lists the dataset's scans; POST starts one (or resumes the unfinished one)."""
        dataset = self.get_object()
        if request.method == "POST":
            run = services.scan_start(dataset=dataset, user=authenticated_user(request))
            return Response(ScanRunSerializer(run).data, status=status.HTTP_202_ACCEPTED)
        return Response(ScanRunSerializer(dataset.scans.all()[:50], many=True).data)
