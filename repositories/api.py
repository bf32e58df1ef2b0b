"""REST API for submissions (/api/v1/submissions/): create, check, build, change state,
release dates and accessions, as on the submission page and with the same roles."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from django.core.exceptions import ValidationError as DjangoValidationError
from django.db.models import QuerySet
from django.http import Http404, StreamingHttpResponse
from django.utils.http import content_disposition_header
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import exceptions, mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response

from accounts.models import User
from accounts.requests import authenticated_user
from metadata.models import Dataset
from projects import access
from projects.models import Project
from repositories import selectors, services
from repositories.models import State, Submission, SubmissionEvent, Target


class SubmissionEventSerializer(serializers.ModelSerializer[SubmissionEvent]):
    user = serializers.SlugRelatedField[User](slug_field="username", read_only=True)
    # Plain strings: the states are listed once, as the submission's `state`.
    from_state = serializers.CharField(read_only=True, help_text="The state before the change.")
    to_state = serializers.CharField(
        read_only=True, help_text="The state after it (equal for a date or accession)."
    )

    class Meta:
        model = SubmissionEvent
        fields = ["from_state", "to_state", "user", "at", "note"]
        read_only_fields = fields


class SubmissionSerializer(serializers.ModelSerializer[Submission]):
    project = serializers.PrimaryKeyRelatedField(queryset=Project.objects.all())
    datasets = serializers.PrimaryKeyRelatedField(queryset=Dataset.objects.all(), many=True)
    target = serializers.ChoiceField(choices=Target.choices)
    has_package = serializers.BooleanField(read_only=True)
    events = SubmissionEventSerializer(many=True, read_only=True)

    class Meta:
        model = Submission
        fields = [
            "id",
            "project",
            "datasets",
            "target",
            "title",
            "release_date",
            "state",
            "preflight",
            "checked_at",
            "has_package",
            "packaged_at",
            "build_started_at",
            "package_error",
            "accession",
            "doi",
            "created_at",
            "updated_at",
            "events",
        ]
        read_only_fields = [
            "state",
            "preflight",
            "checked_at",
            "packaged_at",
            "build_started_at",
            "package_error",
            "accession",
            "doi",
            "created_at",
            "updated_at",
        ]


class TransitionSerializer(serializers.Serializer[Any]):
    state = serializers.ChoiceField(choices=State.choices, help_text="The state to move to.")
    note = serializers.CharField(max_length=2000, required=False, allow_blank=True, default="")


class ReleaseDateSerializer(serializers.Serializer[Any]):
    release_date = serializers.DateField(help_text="A date in the project's time zone.")
    note = serializers.CharField(max_length=2000, required=False, allow_blank=True, default="")


class AccessionSerializer(serializers.Serializer[Any]):
    accession = serializers.CharField(max_length=100)
    doi = serializers.CharField(max_length=200, required=False, allow_blank=True, default="")


@contextmanager
def _service_errors() -> Iterator[None]:
    """A service's refusal as a 400 with its plain-words message; nothing was changed."""
    try:
        yield
    except DjangoValidationError as exc:
        if hasattr(exc, "error_dict"):
            raise exceptions.ValidationError(exc.message_dict) from None
        raise exceptions.ValidationError({"detail": " ".join(exc.messages)}) from None


class SubmissionViewSet(
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    viewsets.GenericViewSet[Submission],
):
    """Submissions of the projects you can see. Viewers read; editors create, check and build;
    managers and owners submit, record accessions, change release dates and withdraw."""

    serializer_class = SubmissionSerializer
    queryset = Submission.objects.none()

    def get_queryset(self) -> QuerySet[Submission]:
        return (
            selectors.submissions_visible_to(self.request.user)
            .prefetch_related("datasets", "events__user")
            .order_by("-created_at")
        )

    def _load(self, needs: str) -> Submission:
        submission = Submission.objects.select_related("project").filter(pk=self.kwargs["pk"]).first()
        if submission is None:
            raise Http404("No such submission.")
        access.project_for_user(self.request.user, submission.project_id, needs=needs)
        return submission

    def get_object(self) -> Submission:
        return self._load(access.VIEW)

    def perform_create(self, serializer: serializers.BaseSerializer[Submission]) -> None:
        data = serializer.validated_data
        project = data["project"]
        access.require_role(self.request.user, project, access.EDIT)
        with _service_errors():
            serializer.instance = services.submission_create(
                project=project,
                datasets=list(data["datasets"]),
                target=data["target"],
                title=data["title"],
                release_date=data.get("release_date"),
                user=authenticated_user(self.request),
            )

    def _reply(self, submission: Submission, code: int = status.HTTP_200_OK) -> Response:
        submission.refresh_from_db()
        return Response(self.get_serializer(submission).data, status=code)

    @extend_schema(request=None, responses=SubmissionSerializer)
    @action(detail=True, methods=["post"])
    def check(self, request: Request, pk: str) -> Response:
        """Run the pre-flight check; the report is in `preflight`, and `state` is checked if it passed."""
        submission = self._load(access.EDIT)
        with _service_errors():
            services.submission_check(submission=submission, user=authenticated_user(request))
        return self._reply(submission)

    @extend_schema(request=None, responses={202: SubmissionSerializer})
    @action(detail=True, methods=["post"])
    def build(self, request: Request, pk: str) -> Response:
        """Queue the package build of a checked submission; `state` becomes packaged when it is done."""
        submission = self._load(access.EDIT)
        with _service_errors():
            services.package_build_start(submission=submission, user=authenticated_user(request))
        return self._reply(submission, status.HTTP_202_ACCEPTED)

    @extend_schema(request=TransitionSerializer, responses=SubmissionSerializer)
    @action(detail=True, methods=["post"])
    def transition(self, request: Request, pk: str) -> Response:
        """Change the state; going back to draft needs the editor role, the others manager."""
        self._load(access.VIEW)
        payload = TransitionSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        to_state = payload.validated_data["state"]
        submission = self._load(services.role_needed(to_state))
        with _service_errors():
            services.submission_transition(
                submission=submission,
                to_state=to_state,
                user=authenticated_user(request),
                note=payload.validated_data["note"],
            )
        return self._reply(submission)

    @extend_schema(request=ReleaseDateSerializer, responses=SubmissionSerializer)
    @action(detail=True, methods=["post"], url_path="release-date")
    def release_date(self, request: Request, pk: str) -> Response:
        submission = self._load(services.RELEASE_DATE_ROLE)
        payload = ReleaseDateSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        with _service_errors():
            services.submission_set_release_date(
                submission=submission,
                release_date=payload.validated_data["release_date"],
                user=authenticated_user(request),
                note=payload.validated_data["note"],
            )
        return self._reply(submission)

    @extend_schema(request=AccessionSerializer, responses=SubmissionSerializer)
    @action(detail=True, methods=["post"])
    def accession(self, request: Request, pk: str) -> Response:
        submission = self._load(services.ACCESSION_ROLE)
        payload = AccessionSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        with _service_errors():
            services.submission_record_accession(
                submission=submission,
                accession=payload.validated_data["accession"],
                doi=payload.validated_data["doi"],
                user=authenticated_user(request),
            )
        return self._reply(submission)

    @extend_schema(
        responses={
            (200, "application/zip"): OpenApiResponse(OpenApiTypes.BINARY, description="The package folder."),
            404: OpenApiResponse(description="No package yet."),
        }
    )
    @action(detail=True, methods=["get"])
    def package(self, request: Request, pk: str) -> StreamingHttpResponse:
        """The package as a ZIP: metadata, file lists and manifest (data files stay in place)."""
        submission = self.get_object()
        if not selectors.package_entries(submission):
            raise exceptions.NotFound("This submission has no package yet.")
        response = StreamingHttpResponse(
            selectors.package_zip_chunks(submission), content_type="application/zip"
        )
        response["Content-Disposition"] = content_disposition_header(
            True, f"{submission.target}-submission-{submission.pk}.zip"
        )
        return response
