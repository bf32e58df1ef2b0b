"""REST API for datasets, their files and scans (/api/v1/datasets/)."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from django.core.exceptions import ValidationError as DjangoValidationError
from django.db.models import QuerySet
from django.http import Http404, HttpResponse
from django.urls import reverse
from django.utils import timezone
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import exceptions, mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.pagination import CursorPagination
from rest_framework.request import Request
from rest_framework.response import Response

from accounts.requests import authenticated_user
from metadata import export, selectors, services, sharing
from metadata.models import FORMAT_CHOICES, Dataset, ImageFile, ScanRun, ShareAccess, ShareLink
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


class ShareLinkSerializer(serializers.ModelSerializer[ShareLink]):
    state = serializers.SerializerMethodField()
    files = serializers.PrimaryKeyRelatedField[ImageFile](many=True, read_only=True)
    access_count = serializers.IntegerField(read_only=True)
    last_access_at = serializers.DateTimeField(read_only=True, allow_null=True)
    created_by = serializers.CharField(source="created_by.username", read_only=True, allow_null=True)

    class Meta:
        model = ShareLink
        fields = [
            "id",
            "prefix",
            "note",
            "files",
            "created_by",
            "created_at",
            "expires_at",
            "revoked_at",
            "state",
            "access_count",
            "last_access_at",
        ]
        read_only_fields = fields

    def get_state(self, link: ShareLink) -> str:
        return sharing.link_state(link, now=self.context["now"]).value


class ShareLinkCreateSerializer(serializers.Serializer[Any]):
    expires_at = serializers.DateTimeField(help_text=f"At most {sharing.MAX_DAYS} days ahead.")
    note = serializers.CharField(max_length=300, required=False, allow_blank=True, default="")
    files = serializers.ListField(
        child=serializers.IntegerField(), required=False, default=list, help_text="Ids of the files to share."
    )


class ShareLinkCreatedSerializer(ShareLinkSerializer):
    url = serializers.SerializerMethodField(help_text="The link's address; it is returned once, never again.")

    class Meta(ShareLinkSerializer.Meta):
        fields = [*ShareLinkSerializer.Meta.fields, "url"]
        read_only_fields = fields

    def get_url(self, link: ShareLink) -> str:
        return str(self.context["url"])


class ShareAccessSerializer(serializers.ModelSerializer[ShareAccess]):
    link = serializers.IntegerField(source="link_id", read_only=True)

    class Meta:
        model = ShareAccess
        fields = ["id", "link", "at", "ip", "user_agent", "what", "outcome", "file", "path", "bytes_sent"]
        read_only_fields = fields


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

    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        # Access to the named project first: a stranger gets the same 404 whether or not it exists,
        # never a 400 ("invalid pk", a registered path) that tells the two apart.
        named = request.data.get("project") if isinstance(request.data, Mapping) else None
        if named is not None:
            access.project_for_user(request.user, named, needs=access.EDIT)
        return super().create(request, *args, **kwargs)

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
        errors = params.get("errors", "false")
        try:
            errors_only = serializers.BooleanField().to_internal_value(errors)
        except serializers.ValidationError:
            raise exceptions.ValidationError({"errors": f"Use true or false, not {errors!r}."}) from None
        files = selectors.dataset_files(
            dataset=dataset,
            format=file_format,
            errors_only=errors_only,
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

    @extend_schema(methods=["GET"], request=None, responses=ScanRunSerializer(many=True))
    @extend_schema(methods=["POST"], request=None, responses={202: ScanRunSerializer})
    @action(detail=True, methods=["get", "post"], serializer_class=ScanRunSerializer, pagination_class=None)
    def scans(self, request: Request, pk: str) -> Response:
        """GET lists the dataset's scans; POST starts one (or resumes the unfinished one)."""
        dataset = self.get_object()
        if request.method == "POST":
            run = services.scan_start(dataset=dataset, user=authenticated_user(request))
            return Response(ScanRunSerializer(run).data, status=status.HTTP_202_ACCEPTED)
        return Response(ScanRunSerializer(dataset.scans.all()[:50], many=True).data)

    def _managed(self) -> Dataset:
        dataset = self.get_object()
        access.require_role(self.request.user, dataset.project, sharing.SHARE_ROLE)
        return dataset

    @extend_schema(
        methods=["GET"],
        request=None,
        responses=ShareLinkSerializer(many=True),
        operation_id="datasets_share_links_list",
    )
    @extend_schema(
        methods=["POST"],
        request=ShareLinkCreateSerializer,
        responses={201: ShareLinkCreatedSerializer},
        operation_id="datasets_share_links_create",
    )
    @action(
        detail=True,
        methods=["get", "post"],
        url_path="share-links",
        serializer_class=ShareLinkSerializer,
        pagination_class=None,
    )
    def share_links(self, request: Request, pk: str) -> Response:
        """Links that show the dataset's metadata and chosen files to people without an account
        (managers and owners). POST makes one; its address is in the answer once, never again."""
        dataset = self._managed()
        now = timezone.now()
        if request.method == "POST":
            payload = ShareLinkCreateSerializer(data=request.data)
            payload.is_valid(raise_exception=True)
            data = payload.validated_data
            try:
                link, key = sharing.share_link_create(
                    dataset=dataset,
                    user=authenticated_user(request),
                    expires_at=data["expires_at"],
                    note=data["note"],
                    file_ids=data["files"],
                    now=now,
                )
            except DjangoValidationError as exc:
                raise exceptions.ValidationError(exc.message_dict) from None
            url = request.build_absolute_uri(reverse("share:page", args=[key]))
            created = sharing.links_of(dataset).get(pk=link.pk)
            return Response(
                ShareLinkCreatedSerializer(created, context={"now": now, "url": url}).data,
                status=status.HTTP_201_CREATED,
            )
        return Response(ShareLinkSerializer(sharing.links_of(dataset), many=True, context={"now": now}).data)

    @extend_schema(
        request=None,
        responses=ShareLinkSerializer,
        parameters=[OpenApiParameter("link_id", OpenApiTypes.INT, OpenApiParameter.PATH)],
    )
    @action(
        detail=True,
        methods=["post"],
        url_path=r"share-links/(?P<link_id>[0-9]+)/revoke",
        serializer_class=ShareLinkSerializer,
        pagination_class=None,
    )
    def share_link_revoke(self, request: Request, pk: str, link_id: str) -> Response:
        """Revoke a share link at once (managers and owners)."""
        dataset = self._managed()
        link = (
            ShareLink.objects.filter(dataset=dataset, pk=int(link_id))
            .select_related("dataset__project")
            .first()
        )
        if link is None:
            raise Http404("No such share link.")
        sharing.share_link_revoke(link=link, user=authenticated_user(request))
        revoked = sharing.links_of(dataset).get(pk=link.pk)
        return Response(ShareLinkSerializer(revoked, context={"now": timezone.now()}).data)

    @extend_schema(
        request=None,
        responses=ShareAccessSerializer(many=True),
        parameters=[OpenApiParameter("limit", OpenApiTypes.INT, description="At most 1000; default 100.")],
    )
    @action(
        detail=True,
        methods=["get"],
        url_path="share-links/log",
        serializer_class=ShareAccessSerializer,
        pagination_class=None,
    )
    def share_log(self, request: Request, pk: str) -> Response:
        """Every request made through the dataset's share links, latest first (managers and owners)."""
        dataset = self._managed()
        raw = request.query_params.get("limit", "100")
        if not raw.isdigit() or not 1 <= int(raw) <= 1000:
            raise exceptions.ValidationError({"limit": "Give a whole number from 1 to 1000."})
        return Response(ShareAccessSerializer(sharing.access_log(dataset, limit=int(raw)), many=True).data)
