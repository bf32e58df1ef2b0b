"""REST API for submissions (/api/v1/submissions/): create, check, build, change state,
release dates and accessions, embargoes, as on the submission page and with the same roles."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from typing import Any

from django.core.exceptions import ValidationError as DjangoValidationError
from django.db.models import QuerySet
from django.http import Http404, StreamingHttpResponse
from django.utils import timezone
from django.utils.http import content_disposition_header
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema, extend_schema_field
from rest_framework import exceptions, mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response

from accounts.models import User
from accounts.requests import authenticated_user
from metadata.models import Dataset
from projects import access
from projects.models import Project
from repositories import embargo, selectors, services, tasks
from repositories.models import (
    EmbargoChange,
    ReminderSent,
    State,
    Submission,
    SubmissionEvent,
    Target,
)


class SubmissionEventSerializer(serializers.ModelSerializer[SubmissionEvent]):
    user = serializers.SlugRelatedField[User](slug_field="username", read_only=True, allow_null=True)
    # Plain strings: the states are listed once, as the submission's `state`.
    from_state = serializers.CharField(read_only=True, help_text="The state before the change.")
    to_state = serializers.CharField(
        read_only=True, help_text="The state after it (equal for a date or accession)."
    )

    class Meta:
        model = SubmissionEvent
        fields = ["from_state", "to_state", "user", "at", "note"]
        read_only_fields = fields


class VisibleDatasetField(serializers.PrimaryKeyRelatedField[Dataset]):
    """A dataset id; one the caller cannot see reads as an unknown id, never as another project's title."""

    def get_queryset(self) -> QuerySet[Dataset]:
        request = self.context.get("request")
        if request is None:
            return Dataset.objects.none()
        return Dataset.objects.filter(project__in=access.visible_projects(request.user))


class SubmissionSerializer(serializers.ModelSerializer[Submission]):
    project = serializers.PrimaryKeyRelatedField(queryset=Project.objects.all())
    datasets = VisibleDatasetField(queryset=Dataset.objects.all(), many=True)
    target = serializers.ChoiceField(choices=Target.choices)
    has_package = serializers.BooleanField(read_only=True)
    events = SubmissionEventSerializer(many=True, read_only=True)
    embargo_state = serializers.SerializerMethodField(
        help_text="under_embargo, overdue (the release date has come, the record is not public), released, "
        "no_date or withdrawn."
    )

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
            "publication_doi",
            "embargo_state",
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
            "publication_doi",
            "created_at",
            "updated_at",
        ]

    @extend_schema_field(serializers.ChoiceField(choices=embargo.EmbargoState.choices))
    def get_embargo_state(self, submission: Submission) -> str:
        return str(embargo.submission_state(submission, now=timezone.now()))


class TransitionSerializer(serializers.Serializer[Any]):
    state = serializers.ChoiceField(choices=State.choices, help_text="The state to move to.")
    note = serializers.CharField(max_length=2000, required=False, allow_blank=True, default="")


class ReleaseDateSerializer(serializers.Serializer[Any]):
    release_date = serializers.DateField(help_text="A date in the project's time zone.")
    note = serializers.CharField(max_length=2000, required=False, allow_blank=True, default="")


class AccessionSerializer(serializers.Serializer[Any]):
    accession = serializers.CharField(max_length=100)
    doi = serializers.CharField(max_length=200, required=False, allow_blank=True, default="")


class EmbargoChangeSerializer(serializers.ModelSerializer[EmbargoChange]):
    user = serializers.SlugRelatedField[User](slug_field="username", read_only=True, allow_null=True)

    class Meta:
        model = EmbargoChange
        fields = ["kind", "old_date", "new_date", "user", "at", "reason"]
        read_only_fields = fields


class ReminderSerializer(serializers.ModelSerializer[ReminderSent]):
    # A plain string: "kind" of an embargo change is a different list.
    kind = serializers.CharField(read_only=True, help_text="before_release or publication.")

    class Meta:
        model = ReminderSent
        fields = ["kind", "offset_days", "release_date", "publication_doi", "sent_at", "skipped_reason"]
        read_only_fields = fields


class ArchiveReleaseSerializer(serializers.Serializer[Any]):
    archive_date = serializers.DateField(
        allow_null=True, help_text="The archive keeps the files restricted until then; null: they are public."
    )
    set_at = serializers.DateTimeField(help_text="When FAIRlight last set the access at the archive.")
    in_step = serializers.BooleanField(help_text="The archive releases the files when the submission says.")
    running_since = serializers.DateTimeField(
        allow_null=True, help_text="An update of the archive's release date is queued or running since then."
    )
    error = serializers.CharField(help_text="Why the last update failed; empty if it did not.")


class EmbargoSerializer(serializers.Serializer[Submission]):
    """A submission's embargo: its state now, its release date and what changed it."""

    submission = serializers.IntegerField(source="pk", read_only=True)
    embargo_state = serializers.SerializerMethodField()
    release_date = serializers.DateField(read_only=True, allow_null=True)
    time_zone = serializers.CharField(source="project.time_zone", read_only=True)
    days_until = serializers.SerializerMethodField(
        help_text="Days from today in the project's time zone to the release date; negative once passed."
    )
    publication_doi = serializers.CharField(read_only=True)
    changes = EmbargoChangeSerializer(source="embargo_changes", many=True, read_only=True)
    reminders = ReminderSerializer(many=True, read_only=True)
    archive = serializers.SerializerMethodField(
        help_text="Where FAIRlight deposited through the archive's API (Zenodo): what the archive holds. "
        "null for records deposited by hand, whose release date is changed at the archive itself."
    )

    @extend_schema_field(serializers.ChoiceField(choices=embargo.EmbargoState.choices))
    def get_embargo_state(self, submission: Submission) -> str:
        return str(embargo.submission_state(submission, now=timezone.now()))

    @extend_schema_field(ArchiveReleaseSerializer(allow_null=True))
    def get_archive(self, submission: Submission) -> dict[str, Any] | None:
        status = tasks.archive_release(submission, now=timezone.now())
        return ArchiveReleaseSerializer(status).data if status is not None else None

    @extend_schema_field(serializers.IntegerField(allow_null=True))
    def get_days_until(self, submission: Submission) -> int | None:
        release = submission.release_date
        return embargo.days_until(release, submission.project.time_zone, timezone.now()) if release else None


class EmbargoChangeInputSerializer(serializers.Serializer[Any]):
    release_date = serializers.DateField(
        required=False,
        allow_null=True,
        default=None,
        help_text="The new release date, in the project's time zone.",
    )
    release_now = serializers.BooleanField(
        required=False, default=False, help_text="End the embargo today instead of giving a date."
    )
    reason = serializers.CharField(max_length=2000, help_text="Why the embargo changes; kept in its history.")
    confirm_past = serializers.BooleanField(
        required=False,
        default=False,
        help_text="Needed to set a date in the past (the record is overdue at once).",
    )


class PublicationDoiSerializer(serializers.Serializer[Any]):
    publication_doi = serializers.CharField(
        max_length=300,
        allow_blank=True,
        help_text="DOI of the paper, e.g. 10.1038/s41592-019-0582-9; empty clears it.",
    )


class EmbargoRowSerializer(serializers.Serializer[Any]):  # one EmbargoRow, or a list with many=True
    submission = serializers.IntegerField(source="submission.pk")
    title = serializers.CharField(source="submission.title")
    project = serializers.IntegerField(source="submission.project_id")
    project_title = serializers.CharField(source="submission.project.title")
    target = serializers.ChoiceField(choices=Target.choices, source="submission.target")
    state = serializers.ChoiceField(choices=State.choices, source="submission.state")
    embargo_state = serializers.ChoiceField(choices=embargo.EmbargoState.choices, source="state")
    release_date = serializers.DateField(source="submission.release_date", allow_null=True)
    time_zone = serializers.CharField(source="submission.project.time_zone")
    days_until = serializers.IntegerField(source="days", allow_null=True)
    accession = serializers.CharField(source="submission.accession")


class EmbargoOverviewSerializer(serializers.Serializer[embargo.EmbargoOverview]):
    upcoming = EmbargoRowSerializer(many=True, help_text="Not due yet, by release date.")
    overdue = EmbargoRowSerializer(
        many=True, help_text="The release date has come; the record is not public."
    )
    missing_accessions = EmbargoRowSerializer(
        many=True, help_text="With the archive (or public) but without an accession."
    )


class UpcomingSerializer(serializers.Serializer[Any]):
    days = serializers.IntegerField(min_value=1, max_value=3650, default=90, required=False)


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

    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        # Access to the named project first: a stranger gets the same 404 whether or not it exists,
        # never a 400 ("invalid pk") that tells the two apart.
        named = request.data.get("project") if isinstance(request.data, Mapping) else None
        if named is not None:
            access.project_for_user(request.user, named, needs=access.EDIT)
        return super().create(request, *args, **kwargs)

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

    @extend_schema(request=None, responses={202: SubmissionSerializer})
    @action(detail=True, methods=["post"])
    def deposit(self, request: Request, pk: str) -> Response:
        """Deposit through the archive's API (Zenodo) as a task: a packaged submission is published, one
        the archive holds gets a new version. The outcome shows in `state`, `accession`, `doi` and
        `events` (a failure as an event whose note starts with "Deposit failed:")."""
        submission = self._load(services.role_needed(State.SUBMITTED))
        with _service_errors():
            tasks.submission_deposit_start(submission=submission, user=authenticated_user(request))
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

    @extend_schema(methods=["GET"], request=None, responses=EmbargoSerializer)
    @extend_schema(methods=["POST"], request=EmbargoChangeInputSerializer, responses=EmbargoSerializer)
    @action(detail=True, methods=["get", "post"])
    def embargo(self, request: Request, pk: str) -> Response:
        """The embargo: state, release date, its changes and reminders. POST extends or shortens it
        (`release_date`) or ends it today (`release_now`), with a `reason`; managers and owners. A
        date in the past needs `confirm_past`."""
        if request.method == "GET":
            return Response(EmbargoSerializer(self.get_object()).data)
        submission = self._load(services.RELEASE_DATE_ROLE)
        payload = EmbargoChangeInputSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        data = payload.validated_data
        with _service_errors():
            try:
                embargo.embargo_change(
                    submission=submission,
                    user=authenticated_user(request),
                    reason=data["reason"],
                    new_date=data["release_date"],
                    release_now=data["release_now"],
                    confirm_past=data["confirm_past"],
                )
            except embargo.PastDateNeedsConfirmation as exc:
                confirm = ['Send "confirm_past": true to set this date anyway.']
                raise DjangoValidationError({**exc.message_dict, "confirm_past": confirm}) from None
        submission.refresh_from_db()
        return Response(EmbargoSerializer(submission).data)

    @extend_schema(request=PublicationDoiSerializer, responses=EmbargoSerializer)
    @action(detail=True, methods=["post"], url_path="publication-doi")
    def publication_doi(self, request: Request, pk: str) -> Response:
        """Record the DOI of the paper; while the data are private, owners and managers are asked once
        by email whether to release them now."""
        submission = self._load(services.RELEASE_DATE_ROLE)
        payload = PublicationDoiSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        with _service_errors():
            embargo.submission_set_publication_doi(
                submission=submission,
                doi=payload.validated_data["publication_doi"],
                user=authenticated_user(request),
            )
        submission.refresh_from_db()
        return Response(EmbargoSerializer(submission).data)

    @extend_schema(
        parameters=[
            OpenApiParameter("project", int, description="Only this project (viewers and above)."),
            OpenApiParameter(
                "facility", int, description="Every project of this facility (its data stewards)."
            ),
        ],
        responses=EmbargoOverviewSerializer,
    )
    @action(detail=False, methods=["get"])
    def embargoes(self, request: Request) -> Response:
        """The embargo dashboard: upcoming releases, overdue ones and missing accessions, of every
        project you can see, or of one project or facility."""
        if "project" in request.query_params:
            project = access.project_for_user(request.user, request.query_params["project"]).project
            submissions = embargo.project_submissions(project)
        elif "facility" in request.query_params:
            facility = access.facility_for_steward(request.user, request.query_params["facility"])
            submissions = embargo.facility_submissions(facility)
        else:
            submissions = embargo.user_submissions(request.user)
        overview = embargo.embargo_overview(submissions, now=timezone.now())
        return Response(EmbargoOverviewSerializer(overview).data)

    @extend_schema(
        parameters=[
            OpenApiParameter("days", int, description="How many days ahead to look (1 to 3650, default 90).")
        ],
        responses=EmbargoRowSerializer(many=True),
    )
    @action(detail=False, methods=["get"], url_path="upcoming-releases", pagination_class=None)
    def upcoming_releases(self, request: Request) -> Response:
        """Your releases in the next `days` days (default 90), soonest first."""
        payload = UpcomingSerializer(data=request.query_params)
        payload.is_valid(raise_exception=True)
        rows = embargo.upcoming_releases(
            request.user, now=timezone.now(), within_days=payload.validated_data["days"]
        )
        return Response(EmbargoRowSerializer(rows, many=True).data)
