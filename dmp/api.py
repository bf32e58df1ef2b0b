"""REST API for plans and their answers (/api/v1/plans/); saves carry the version the client
saw, and a stale one gets 409 with both values, as in the web wizard."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db.models import QuerySet
from django.http import Http404, HttpResponse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import exceptions, mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.parsers import BaseParser, MultiPartParser
from rest_framework.request import Request
from rest_framework.response import Response

from accounts.models import User
from accounts.requests import authenticated_user
from dmp import answers, exports, living, madmp, madmp_import, review, selectors, versions
from dmp.export_views import export_response
from dmp.models import Answer, Comment, DatasetLink, Plan, PlanSnapshot, ReviewRequest, Template
from metadata.models import Dataset
from projects import access


class PlanSerializer(serializers.ModelSerializer[Plan]):
    template = serializers.SlugRelatedField[Template](slug_field="key", read_only=True)
    template_version = serializers.CharField(source="template.version", read_only=True)

    class Meta:
        model = Plan
        fields = [
            "id",
            "project",
            "title",
            "status",
            "template",
            "template_version",
            "blocks",
            "created_at",
            "updated_at",
        ]
        read_only_fields = fields


class AnswerSerializer(serializers.ModelSerializer[Answer]):
    class Meta:
        model = Answer
        fields = ["question_key", "block_id", "value", "version", "updated_at"]
        read_only_fields = ["updated_at"]


class AnswerWriteSerializer(serializers.Serializer[Any]):
    question_key = serializers.CharField(max_length=80)
    block_id = serializers.CharField(max_length=20, required=False, allow_blank=True, default="")
    value = serializers.JSONField(allow_null=True)
    version = serializers.IntegerField(min_value=0, help_text="The version you loaded; 0 for a new answer.")


class ConflictSerializer(serializers.Serializer[Any]):
    detail = serializers.CharField()
    current = AnswerSerializer()
    yours = serializers.JSONField()


class MadmpImportSerializer(serializers.Serializer[Any]):
    file = serializers.FileField(help_text="An maDMP file: RDA DMP Common Standard 1.2, JSON, at most 5 MB.")
    template = serializers.CharField(
        required=False,
        help_text=f"Key of the DMP template for the plan (default {madmp_import.DEFAULT_TEMPLATE}).",
    )


class ImportProblemsSerializer(serializers.Serializer[Any]):
    detail = serializers.CharField()
    problems = serializers.ListField(
        child=serializers.CharField(), help_text="Each problem, with the JSON path where it is."
    )


class RawJsonParser(BaseParser):
    """The JSON body unparsed (as {"raw": bytes}), so the importer can name a syntax error's line."""

    media_type = "application/json"

    def parse(
        self, stream: Any, media_type: str | None = None, parser_context: Any = None
    ) -> dict[str, bytes]:
        return {"raw": bytes(stream.read()) if stream is not None else b""}


class SnapshotSerializer(serializers.ModelSerializer[PlanSnapshot]):
    template_version = serializers.CharField(source="template.version", read_only=True)
    created_by = serializers.SlugRelatedField[User](slug_field="username", read_only=True, allow_null=True)

    class Meta:
        model = PlanSnapshot
        fields = ["id", "name", "template_version", "title", "blocks", "answers", "created_by", "created_at"]
        read_only_fields = ["template_version", "title", "blocks", "answers", "created_by", "created_at"]


class BlockSerializer(serializers.Serializer[Any]):
    id = serializers.CharField()
    title = serializers.CharField()


class BlockRenameSerializer(serializers.Serializer[Any]):
    id = serializers.CharField(source="1.id")
    old_title = serializers.CharField(source="0.title")
    new_title = serializers.CharField(source="1.title")


class ChangeSerializer(serializers.Serializer[Any]):
    question_key = serializers.CharField()
    question_text = serializers.CharField()
    block_id = serializers.CharField(source="block.id", allow_null=True, default=None)
    block_title = serializers.CharField(source="block.title", allow_null=True, default=None)
    old = serializers.CharField(help_text="As shown to people: choice labels, Yes/No; empty if unanswered.")
    new = serializers.CharField()


class DiffSerializer(serializers.Serializer[Any]):
    old_template_version = serializers.CharField(source="old.template.version")
    new_template_version = serializers.CharField(source="new.template.version")
    old_title = serializers.CharField(source="old.title")
    new_title = serializers.CharField(source="new.title")
    blocks_added = BlockSerializer(many=True)
    blocks_removed = BlockSerializer(many=True)
    blocks_renamed = BlockRenameSerializer(many=True)
    changes = ChangeSerializer(many=True)


class LeftoverSerializer(serializers.Serializer[Any]):
    question_key = serializers.CharField()
    question_text = serializers.CharField()
    block_title = serializers.CharField()
    value = serializers.CharField()
    reason = serializers.CharField()


class CarriedSerializer(serializers.Serializer[Any]):
    question_key = serializers.CharField()
    question_text = serializers.CharField()
    block_title = serializers.CharField()
    value = serializers.CharField()


class RestoreReportSerializer(serializers.Serializer[Any]):
    backup = SnapshotSerializer(help_text="The plan as it was before the restore.")
    changed = serializers.IntegerField(help_text="Answers written or cleared.")
    left_out = LeftoverSerializer(many=True, help_text="Snapshot answers that do not fit the template.")


class HistoryEntrySerializer(serializers.Serializer[Any]):
    question_key = serializers.CharField()
    question_text = serializers.CharField()
    block_title = serializers.CharField()
    old = serializers.CharField(allow_null=True, help_text="Null when the earlier value was never recorded.")
    new = serializers.CharField()
    version = serializers.IntegerField()
    changed_by = serializers.CharField(source="changed_by.username", allow_null=True, read_only=True)
    changed_at = serializers.DateTimeField()


class UpgradePreviewSerializer(serializers.Serializer[Any]):
    current_version = serializers.CharField(source="current.version")
    new_version = serializers.CharField(source="target.version")
    carried = CarriedSerializer(many=True)
    left_out = LeftoverSerializer(many=True)


class UpgradeReportSerializer(serializers.Serializer[Any]):
    backup = SnapshotSerializer(help_text="The plan as it was before the upgrade.")
    old_version = serializers.CharField()
    new_version = serializers.CharField()
    carried = serializers.IntegerField()
    left_out = LeftoverSerializer(many=True)


class CommentSerializer(serializers.ModelSerializer[Comment]):
    author = serializers.SlugRelatedField[User](slug_field="username", read_only=True, allow_null=True)
    resolved_by = serializers.SlugRelatedField[User](slug_field="username", read_only=True, allow_null=True)

    class Meta:
        model = Comment
        fields = [
            "id",
            "question_key",
            "block_id",
            "author",
            "text",
            "resolved",
            "resolved_by",
            "resolved_at",
            "created_at",
        ]
        read_only_fields = fields


class CommentWriteSerializer(serializers.Serializer[Any]):
    question_key = serializers.CharField(max_length=80)
    block_id = serializers.CharField(
        max_length=20,
        required=False,
        allow_blank=True,
        default="",
        help_text="The planned dataset, for questions asked per dataset; empty otherwise.",
    )
    text = serializers.CharField(allow_blank=True, help_text="Up to 5,000 characters.")


class CommentStateSerializer(serializers.Serializer[Any]):
    resolved = serializers.BooleanField(help_text="true resolves the comment, false reopens it.")


class ReviewRequestSerializer(serializers.ModelSerializer[ReviewRequest]):
    facility = serializers.CharField(source="facility.name", read_only=True)
    requested_by = serializers.SlugRelatedField[User](slug_field="username", read_only=True, allow_null=True)
    reviewed_by = serializers.SlugRelatedField[User](slug_field="username", read_only=True, allow_null=True)

    class Meta:
        model = ReviewRequest
        fields = [
            "id",
            "facility",
            "status",
            "message",
            "requested_by",
            "requested_at",
            "reviewed_by",
            "reviewed_at",
            "summary",
        ]
        read_only_fields = fields


class ReviewRequestWriteSerializer(serializers.Serializer[Any]):
    message = serializers.CharField(
        required=False, allow_blank=True, default="", help_text="For the data stewards; optional."
    )


class ReviewCompleteSerializer(serializers.Serializer[Any]):
    summary = serializers.CharField(allow_blank=True, help_text="The review's summary; required.")


class DatasetLinkSerializer(serializers.ModelSerializer[DatasetLink]):
    dataset_title = serializers.CharField(source="dataset.title", read_only=True)
    confirmed_by = serializers.SlugRelatedField[User](slug_field="username", read_only=True, allow_null=True)

    class Meta:
        model = DatasetLink
        fields = ["id", "block_id", "dataset", "dataset_title", "confirmed_by", "confirmed_at"]
        read_only_fields = fields


class DatasetLinkWriteSerializer(serializers.Serializer[Any]):
    block_id = serializers.CharField(max_length=20, help_text="The planned dataset (a block id of the plan).")
    dataset = serializers.IntegerField(help_text="A registered dataset of the plan's project.")


class FormatUseSerializer(serializers.Serializer[Any]):
    format = serializers.CharField()
    name = serializers.CharField(source="label", help_text="e.g. OME-TIFF, Nikon ND2.")
    mime_type = serializers.CharField()
    files = serializers.IntegerField()
    bytes = serializers.IntegerField()
    is_proprietary = serializers.BooleanField()


class DepositSerializer(serializers.Serializer[Any]):
    submission = serializers.IntegerField(source="submission.pk")
    title = serializers.CharField(source="submission.title")
    repository = serializers.CharField(source="repository.name")
    repository_url = serializers.CharField(source="repository.url")
    state = serializers.CharField(source="submission.state")
    status = serializers.CharField(help_text="The embargo state in words.")
    accession = serializers.CharField()
    doi = serializers.CharField()
    landing_url = serializers.CharField(help_text="The record's page; empty before an accession or DOI.")
    release_date = serializers.DateField(allow_null=True)
    data_access = serializers.CharField(help_text="maDMP data access now: open once public, else closed.")
    byte_size = serializers.IntegerField(help_text="Bytes of the linked datasets in this submission.")


class ActualSerializer(serializers.Serializer[Any]):
    total_bytes = serializers.IntegerField()
    growth_per_year = serializers.IntegerField(help_text="Bytes added in the busiest calendar year.")
    scanned = serializers.BooleanField(help_text="Whether every linked dataset has been scanned.")
    formats = FormatUseSerializer(many=True)
    instruments = serializers.ListField(child=serializers.CharField())
    deposits = DepositSerializer(many=True)
    licence = serializers.CharField(help_text="SPDX id of the REMBI Study's licence; empty if none.")
    release_date = serializers.DateField(allow_null=True, help_text="The latest of the submissions'.")


class OfferSerializer(serializers.Serializer[Any]):
    question_key = serializers.CharField(source="question.key")
    question_text = serializers.CharField(source="question.text")
    block_id = serializers.CharField(help_text="Empty for plan-level questions.")
    fact = serializers.CharField()
    planned = serializers.JSONField(allow_null=True)
    value = serializers.JSONField(help_text="The actual value; POST it to answers with `version` to use it.")
    planned_shown = serializers.CharField()
    actual_shown = serializers.CharField()
    agrees = serializers.BooleanField()
    visible = serializers.BooleanField(help_text="False for an embargo end date the plan does not ask now.")
    version = serializers.IntegerField(help_text="The answer's version (0 when unanswered).")


class FindingSerializer(serializers.Serializer[Any]):
    kind = serializers.CharField()
    block_id = serializers.CharField(source="offer.block_id")
    question_key = serializers.CharField(source="question.key")
    message = serializers.CharField()
    planned = serializers.CharField()
    actual = serializers.CharField()


class PlannedVsActualSerializer(serializers.Serializer[Any]):
    block = BlockSerializer()
    links = DatasetLinkSerializer(many=True)
    actual = ActualSerializer(allow_null=True, help_text="Null while no dataset is linked.")
    offers = OfferSerializer(many=True)
    findings = FindingSerializer(many=True)


class SuggestionSerializer(serializers.Serializer[Any]):
    dataset = serializers.IntegerField(source="dataset.pk")
    dataset_title = serializers.CharField(source="dataset.title")
    block_id = serializers.CharField(source="block.id", allow_null=True, default=None)
    score = serializers.FloatField()
    reasons = serializers.ListField(child=serializers.CharField())


class LivingSerializer(serializers.Serializer[Any]):
    planned_datasets = PlannedVsActualSerializer(source="planned", many=True)
    plan_offers = OfferSerializer(many=True)
    drift = FindingSerializer(source="findings", many=True)
    suggestions = SuggestionSerializer(many=True, help_text="Datasets of the project not yet linked.")


class SnapshotFromCurrentWriteSerializer(serializers.Serializer[Any]):
    name = serializers.CharField(
        required=False, allow_blank=True, default="", help_text="Default “As deposited, <date>”."
    )


class ResolvedSerializer(serializers.Serializer[Any]):
    question_text = serializers.CharField()
    block_title = serializers.CharField()
    old = serializers.CharField()
    new = serializers.CharField()


class SnapshotReportSerializer(serializers.Serializer[Any]):
    snapshot = SnapshotSerializer()
    changes = ResolvedSerializer(many=True, help_text="The answers set to the actual values.")


COMMENT_ID = OpenApiParameter("comment_pk", int, OpenApiParameter.PATH, description="The comment's id.")
REVIEW_ID = OpenApiParameter("review_pk", int, OpenApiParameter.PATH, description="The review request's id.")
LINK_ID = OpenApiParameter("link_pk", int, OpenApiParameter.PATH, description="The dataset link's id.")


@contextmanager
def _service_errors() -> Iterator[None]:
    """A service's refusals as API errors: 403 with its reason, 400 with its plain-words message."""
    try:
        yield
    except DjangoPermissionDenied as exc:
        raise exceptions.PermissionDenied(str(exc)) from None
    except DjangoValidationError as exc:
        raise exceptions.ValidationError({"detail": " ".join(exc.messages)}) from None


class PlanViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet[Plan]):
    """Plans of the projects you can see, and their answers."""

    serializer_class = PlanSerializer
    queryset = Plan.objects.none()

    def get_queryset(self) -> QuerySet[Plan]:
        return (
            Plan.objects.filter(project__in=access.visible_projects(self.request.user))
            .select_related("template")
            .order_by("-updated_at")
        )

    def get_object(self) -> Plan:
        return selectors.plan_for_user(self.request.user, self.kwargs["pk"])[0]

    @extend_schema(responses={(200, "application/json"): OpenApiTypes.OBJECT})
    @action(detail=True, methods=["get"], pagination_class=None)
    def madmp(self, request: Request, pk: str) -> Response:
        """The plan as an RDA DMP Common Standard 1.2 maDMP, valid against the official schema."""
        return Response(madmp.plan_madmp(self.get_object()))

    @extend_schema(
        request={"multipart/form-data": MadmpImportSerializer, "application/json": OpenApiTypes.OBJECT},
        parameters=[
            OpenApiParameter(
                "template", str, description="For a JSON body: the DMP template key (default horizon-europe)."
            )
        ],
        responses={
            201: PlanSerializer,
            400: OpenApiResponse(ImportProblemsSerializer, description="Not imported; nothing was created."),
        },
    )
    @action(
        detail=False,
        methods=["post"],
        url_path="import-madmp",
        url_name="import-madmp",
        parser_classes=[MultiPartParser, RawJsonParser],
        serializer_class=PlanSerializer,
    )
    def import_madmp(self, request: Request) -> Response:
        """Create a project of yours with a plan from an maDMP (RDA DMP Common Standard 1.2).

        Upload the file as multipart form data (field `file`, optional `template`) or send the
        maDMP itself as the JSON body. Nothing is created when the file has any problem.
        """
        data = request.data if isinstance(request.data, dict) else {}
        template = str(data.get("template") or request.query_params.get("template") or "")
        try:
            if request.content_type.startswith("multipart/"):
                upload = request.FILES.get("file")
                if upload is None:
                    raise DjangoValidationError(
                        "Send the maDMP file in the field “file”, or as the JSON body."
                    )
                madmp_import.check_size(upload.size or 0)
                document = madmp_import.madmp_read(upload.read())
            else:
                document = madmp_import.madmp_read(data.get("raw", b""))
            plan = madmp_import.plan_import_madmp(
                document=document,
                user=authenticated_user(request),
                template_key=template or madmp_import.DEFAULT_TEMPLATE,
            )
        except DjangoValidationError as exc:
            body = {"detail": "The maDMP was not imported; nothing was created.", "problems": exc.messages}
            return Response(body, status=status.HTTP_400_BAD_REQUEST)
        return Response(PlanSerializer(plan).data, status=status.HTTP_201_CREATED)

    @extend_schema(
        parameters=[
            # Not "format": DRF reads that parameter to choose the response renderer.
            OpenApiParameter("as", OpenApiTypes.STR, enum=list(exports.KINDS), description="Default pdf.")
        ],
        responses={
            (200, "application/pdf"): OpenApiTypes.BINARY,
            (200, "text/html"): OpenApiTypes.STR,
            (200, "text/markdown"): OpenApiTypes.STR,
            400: OpenApiResponse(description="An unknown `as`."),
        },
    )
    @action(detail=True, methods=["get"], pagination_class=None)
    def export(self, request: Request, pk: str) -> HttpResponse:
        """The plan as a document for people: an A4 PDF, a standalone HTML page or Markdown."""
        plan = self.get_object()
        kind = request.query_params.get("as", "pdf")
        if kind not in exports.KINDS:
            raise exceptions.ValidationError({"as": f"Use pdf, html or md, not {kind!r}."})
        return export_response(exports.plan_export(plan=plan, kind=kind))

    @extend_schema(
        request=AnswerWriteSerializer,
        responses={
            200: AnswerSerializer(many=True),
            409: OpenApiResponse(
                ConflictSerializer, description="Someone saved first; both values are returned."
            ),
        },
    )
    @action(detail=True, methods=["get", "post"], pagination_class=None, serializer_class=AnswerSerializer)
    def answers(self, request: Request, pk: str) -> Response:
        """GET lists the answers; POST saves one (editors and above)."""
        plan = self.get_object()
        if request.method == "GET":
            return Response(
                AnswerSerializer(plan.answers.order_by("question_key", "block_id"), many=True).data
            )
        data = AnswerWriteSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        try:
            answer = answers.answer_save(
                plan=plan,
                user=authenticated_user(request),
                question_key=data.validated_data["question_key"],
                block_id=data.validated_data["block_id"],
                raw=data.validated_data["value"],
                version=data.validated_data["version"],
            )
        except answers.AnswerConflict as conflict:
            body = {
                "detail": str(conflict),
                "current": AnswerSerializer(conflict.current).data,
                "yours": conflict.yours,
            }
            return Response(body, status=status.HTTP_409_CONFLICT)
        except DjangoPermissionDenied as exc:
            raise exceptions.PermissionDenied(str(exc)) from None
        except DjangoValidationError as exc:
            raise exceptions.ValidationError({"value": exc.messages}) from None
        return Response(AnswerSerializer(answer).data)

    def _version(self, plan: Plan, name: str) -> Plan | PlanSnapshot:
        raw = self.request.query_params.get(name, "")
        if raw != "current" and not raw.isdigit():
            raise exceptions.ValidationError({name: ["Give a snapshot id of this plan, or “current”."]})
        found = versions.version_lookup(plan, raw)
        if found is None:
            raise Http404("This plan has no such version.")
        return found

    @extend_schema(methods=["GET"], responses=SnapshotSerializer(many=True))
    @extend_schema(methods=["POST"], request=SnapshotSerializer, responses={201: SnapshotSerializer})
    @action(detail=True, methods=["get", "post"], pagination_class=None, serializer_class=SnapshotSerializer)
    def snapshots(self, request: Request, pk: str) -> Response:
        """GET lists the plan's named snapshots, newest first; POST saves one (editors and above)."""
        plan = self.get_object()
        if request.method == "GET":
            snapshots = plan.snapshots.select_related("template", "created_by")
            return Response(SnapshotSerializer(snapshots, many=True).data)
        data = SnapshotSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        with _service_errors():
            snapshot = versions.snapshot_create(
                plan=plan, name=data.validated_data["name"], user=authenticated_user(request)
            )
        return Response(SnapshotSerializer(snapshot).data, status=status.HTTP_201_CREATED)

    @extend_schema(
        parameters=[
            OpenApiParameter("from", str, required=True, description="A snapshot id, or “current”."),
            OpenApiParameter("to", str, required=True, description="A snapshot id, or “current”."),
        ],
        responses=DiffSerializer,
    )
    @action(detail=True, methods=["get"], pagination_class=None, serializer_class=DiffSerializer)
    def diff(self, request: Request, pk: str) -> Response:
        """The changed answers from one version to another, per question and planned dataset."""
        plan = self.get_object()
        diff = versions.snapshot_diff(old=self._version(plan, "from"), new=self._version(plan, "to"))
        return Response(DiffSerializer(diff).data)

    @extend_schema(
        request=None,
        responses=RestoreReportSerializer,
        parameters=[OpenApiParameter("snapshot_pk", int, OpenApiParameter.PATH, description="Snapshot id.")],
    )
    @action(
        detail=True,
        methods=["post"],
        url_path=r"snapshots/(?P<snapshot_pk>[0-9]+)/restore",
        serializer_class=RestoreReportSerializer,
    )
    def restore(self, request: Request, pk: str, snapshot_pk: str) -> Response:
        """Make a snapshot the plan's newest version; the state before is kept as a snapshot."""
        plan = self.get_object()
        snapshot = plan.snapshots.select_related("template").filter(pk=snapshot_pk).first()
        if snapshot is None:
            raise Http404("This plan has no such snapshot.")
        with _service_errors():
            report = versions.snapshot_restore(snapshot=snapshot, user=authenticated_user(request))
        return Response(RestoreReportSerializer(report).data)

    @extend_schema(
        parameters=[OpenApiParameter("question", str, description="Only the changes of this question key.")],
        responses=HistoryEntrySerializer(many=True),
    )
    @action(detail=True, methods=["get"], serializer_class=HistoryEntrySerializer)
    def history(self, request: Request, pk: str) -> Response:
        """Every saved answer, newest first: who changed which answer when, old → new."""
        plan = self.get_object()
        entries = versions.plan_history(plan, question_key=request.query_params.get("question", ""))
        page = self.paginate_queryset(entries)
        return self.get_paginated_response(HistoryEntrySerializer(page, many=True).data)

    @extend_schema(methods=["GET"], responses=UpgradePreviewSerializer)
    @extend_schema(methods=["POST"], request=None, responses=UpgradeReportSerializer)
    @action(
        detail=True, methods=["get", "post"], pagination_class=None, serializer_class=UpgradePreviewSerializer
    )
    def upgrade(self, request: Request, pk: str) -> Response:
        """Move the plan to the newest version of its template (editors and above).

        GET previews what would carry over; POST upgrades, keeping the plan as it was as a snapshot.
        Both answer 400 when the plan already uses the newest version.
        """
        plan = self.get_object()
        with _service_errors():
            if request.method == "GET":
                access.require_role(request.user, plan.project, access.EDIT)
                return Response(UpgradePreviewSerializer(versions.upgrade_preview(plan)).data)
            report = versions.template_upgrade(plan=plan, user=authenticated_user(request))
        return Response(UpgradeReportSerializer(report).data)

    @extend_schema(methods=["GET"], responses=CommentSerializer(many=True))
    @extend_schema(methods=["POST"], request=CommentWriteSerializer, responses={201: CommentSerializer})
    @action(detail=True, methods=["get", "post"], pagination_class=None, serializer_class=CommentSerializer)
    def comments(self, request: Request, pk: str) -> Response:
        """GET lists the plan's comments; POST comments on a question (reviewers, stewards and up)."""
        plan = self.get_object()
        if request.method == "GET":
            listed = plan.comments.select_related("author", "resolved_by").order_by("created_at", "pk")
            return Response(CommentSerializer(listed, many=True).data)
        data = CommentWriteSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        with _service_errors():
            comment = review.comment_add(
                plan=plan,
                user=authenticated_user(request),
                question_key=data.validated_data["question_key"],
                block_id=data.validated_data["block_id"],
                text=data.validated_data["text"],
            )
        return Response(CommentSerializer(comment).data, status=status.HTTP_201_CREATED)

    @extend_schema(request=CommentStateSerializer, responses=CommentSerializer, parameters=[COMMENT_ID])
    @action(
        detail=True,
        methods=["patch"],
        url_path=r"comments/(?P<comment_pk>[0-9]+)",
        url_name="comment",
        serializer_class=CommentSerializer,
    )
    def comment_state(self, request: Request, pk: str, comment_pk: str) -> Response:
        """Resolve or reopen a comment (editors and up, or its author)."""
        plan = self.get_object()
        comment = plan.comments.filter(pk=int(comment_pk)).select_related("author", "resolved_by").first()
        if comment is None:
            raise Http404("No such comment.")
        data = CommentStateSerializer(data=request.data, partial=True)
        data.is_valid(raise_exception=True)
        if "resolved" in data.validated_data:
            settle = review.comment_resolve if data.validated_data["resolved"] else review.comment_reopen
            with _service_errors():
                settle(comment=comment, user=authenticated_user(request))
        return Response(CommentSerializer(comment).data)

    @extend_schema(methods=["GET"], responses=ReviewRequestSerializer(many=True))
    @extend_schema(
        methods=["POST"], request=ReviewRequestWriteSerializer, responses={201: ReviewRequestSerializer}
    )
    @action(
        detail=True,
        methods=["get", "post"],
        url_path="review-requests",
        url_name="review-requests",
        pagination_class=None,
        serializer_class=ReviewRequestSerializer,
    )
    def review_requests(self, request: Request, pk: str) -> Response:
        """GET lists the plan's review requests, newest first; POST asks the facility's data stewards
        for feedback (editors and up): each steward is emailed and the plan is in review."""
        plan = self.get_object()
        if request.method == "GET":
            listed = plan.review_requests.select_related("facility", "requested_by", "reviewed_by")
            return Response(ReviewRequestSerializer(listed, many=True).data)
        data = ReviewRequestWriteSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        with _service_errors():
            sent = review.review_request(
                plan=plan, user=authenticated_user(request), message=data.validated_data["message"]
            )
        return Response(ReviewRequestSerializer(sent).data, status=status.HTTP_201_CREATED)

    def _review_request(self, plan: Plan, review_pk: str) -> ReviewRequest:
        found = (
            plan.review_requests.select_related("plan__project", "facility", "requested_by", "reviewed_by")
            .filter(pk=int(review_pk))
            .first()
        )
        if found is None:
            raise Http404("No such review request.")
        return found

    @extend_schema(
        request=ReviewCompleteSerializer, responses=ReviewRequestSerializer, parameters=[REVIEW_ID]
    )
    @action(
        detail=True,
        methods=["post"],
        url_path=r"review-requests/(?P<review_pk>[0-9]+)/complete",
        url_name="review-complete",
        serializer_class=ReviewRequestSerializer,
    )
    def review_complete(self, request: Request, pk: str, review_pk: str) -> Response:
        """Mark the plan reviewed with a summary (data stewards of the facility only)."""
        found = self._review_request(self.get_object(), review_pk)
        data = ReviewCompleteSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        with _service_errors():
            review.review_complete(
                review=found, user=authenticated_user(request), summary=data.validated_data["summary"]
            )
        return Response(ReviewRequestSerializer(found).data)

    @extend_schema(request=None, responses=ReviewRequestSerializer, parameters=[REVIEW_ID])
    @action(
        detail=True,
        methods=["post"],
        url_path=r"review-requests/(?P<review_pk>[0-9]+)/withdraw",
        url_name="review-withdraw",
        serializer_class=ReviewRequestSerializer,
    )
    def review_withdraw(self, request: Request, pk: str, review_pk: str) -> Response:
        """Withdraw an open review request (the person who asked, or a manager)."""
        found = self._review_request(self.get_object(), review_pk)
        with _service_errors():
            review.review_withdraw(review=found, user=authenticated_user(request))
        return Response(ReviewRequestSerializer(found).data)

    @extend_schema(methods=["GET"], responses=DatasetLinkSerializer(many=True))
    @extend_schema(
        methods=["POST"], request=DatasetLinkWriteSerializer, responses={201: DatasetLinkSerializer}
    )
    @action(
        detail=True, methods=["get", "post"], pagination_class=None, serializer_class=DatasetLinkSerializer
    )
    def links(self, request: Request, pk: str) -> Response:
        """GET lists which registered datasets realise which planned dataset; POST links one
        (editors and above; a dataset belongs to one planned dataset of a plan)."""
        plan = self.get_object()
        if request.method == "GET":
            return Response(DatasetLinkSerializer(living.live_links(plan), many=True).data)
        with _service_errors():
            access.require_role(request.user, plan.project, access.EDIT)
        data = DatasetLinkWriteSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        dataset = Dataset.objects.filter(pk=data.validated_data["dataset"], project=plan.project_id).first()
        if dataset is None:
            raise exceptions.ValidationError({"dataset": ["No dataset with this id in the plan's project."]})
        with _service_errors():
            link = living.link_create(
                plan=plan,
                block_id=data.validated_data["block_id"],
                dataset=dataset,
                user=authenticated_user(request),
            )
        return Response(DatasetLinkSerializer(link).data, status=status.HTTP_201_CREATED)

    @extend_schema(request=None, responses={204: None}, parameters=[LINK_ID])
    @action(detail=True, methods=["delete"], url_path=r"links/(?P<link_pk>[0-9]+)", url_name="link")
    def link_delete(self, request: Request, pk: str, link_pk: str) -> Response:
        """Unlink a dataset from its planned dataset (editors and above)."""
        plan = self.get_object()
        with _service_errors():
            access.require_role(request.user, plan.project, access.EDIT)
        link = plan.dataset_links.select_related("plan__project").filter(pk=int(link_pk)).first()
        if link is None:
            raise Http404("No such link.")
        with _service_errors():
            living.link_delete(link=link, user=authenticated_user(request))
        return Response(status=status.HTTP_204_NO_CONTENT)

    @extend_schema(responses=LivingSerializer)
    @action(detail=True, methods=["get"], pagination_class=None, serializer_class=LivingSerializer)
    def living(self, request: Request, pk: str) -> Response:
        """Planned vs actual: per planned dataset its linked datasets, what they hold (volume, formats,
        instruments, submissions), the answers the data can give and the drift report; plus link
        suggestions. Use an offer by POSTing its value with its version to the answers."""
        return Response(LivingSerializer(living.living_report(self.get_object())).data)

    @extend_schema(
        request=SnapshotFromCurrentWriteSerializer,
        responses={
            201: SnapshotReportSerializer,
            409: OpenApiResponse(description="An answer changed meanwhile; nothing was changed."),
        },
    )
    @action(
        detail=True,
        methods=["post"],
        url_path="snapshot-from-current",
        url_name="snapshot-from-current",
        serializer_class=SnapshotReportSerializer,
    )
    def snapshot_from_current(self, request: Request, pk: str) -> Response:
        """Set every drifting answer to the actual value, then save the plan as a new version
        (editors and above), all or nothing."""
        plan = self.get_object()
        data = SnapshotFromCurrentWriteSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        try:
            with _service_errors():
                report = living.snapshot_from_current(
                    plan=plan, user=authenticated_user(request), name=data.validated_data["name"]
                )
        except answers.AnswerConflict as conflict:
            return Response({"detail": str(conflict)}, status=status.HTTP_409_CONFLICT)
        return Response(SnapshotReportSerializer(report).data, status=status.HTTP_201_CREATED)
