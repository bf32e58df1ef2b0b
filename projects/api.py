"""REST API for projects, memberships and teams (/api/v1/). Access checks come
from projects.access, writes go through projects.services."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, cast

from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db.models import QuerySet
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_field, extend_schema_view
from rest_framework import exceptions, generics, mixins, serializers, viewsets
from rest_framework.request import Request

from accounts.models import User
from accounts.requests import authenticated_user
from audit import selectors as audit_selectors
from audit.api import AuditCursorPagination, AuditEventSerializer, AuditFilterSerializer
from audit.models import AuditEvent
from projects import access, selectors, services
from projects.models import Facility, Membership, Project, Role, Team


def _django_errors[T](call: Callable[[], T]) -> T:
    """Run a service call, turning Django's errors into the API's 400/403 responses."""
    try:
        return call()
    except DjangoValidationError as exc:
        detail: Any = exc.message_dict if hasattr(exc, "error_dict") else exc.messages
        raise exceptions.ValidationError(detail) from None
    except DjangoPermissionDenied as exc:
        raise exceptions.PermissionDenied(str(exc)) from None


class ProjectSerializer(serializers.ModelSerializer[Project]):
    role = serializers.SerializerMethodField(help_text="Your role in this project.")
    team = serializers.PrimaryKeyRelatedField(queryset=Team.objects.all(), allow_null=True, required=False)
    facility = serializers.PrimaryKeyRelatedField(
        queryset=Facility.objects.all(), allow_null=True, required=False
    )

    class Meta:
        model = Project
        fields = [
            "id",
            "title",
            "acronym",
            "description",
            "funder",
            "grant_id",
            "start_date",
            "end_date",
            "time_zone",
            "team",
            "facility",
            "status",
            "role",
            "created_at",
            "updated_at",
        ]
        read_only_fields = ["created_at", "updated_at"]

    @extend_schema_field(serializers.ChoiceField(choices=Role.choices, allow_null=True))
    def get_role(self, project: Project) -> str | None:
        role = getattr(project, "member_role", None)
        if role is None:
            found = access.effective_role(self.context["request"].user, project)
            role = found.value if found else None
        return role

    def validate_team(self, team: Team | None) -> Team | None:
        user = self.context["request"].user
        current = self.instance.team_id if isinstance(self.instance, Project) else None
        if team is not None and team.pk != current and not team.members.filter(pk=user.pk).exists():
            raise serializers.ValidationError("You can only choose a team you belong to.")
        return team

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        start = attrs.get("start_date", getattr(self.instance, "start_date", None))
        end = attrs.get("end_date", getattr(self.instance, "end_date", None))
        if start and end and end < start:
            raise serializers.ValidationError({"end_date": "The end date is before the start date."})
        return attrs


class ProjectViewSet(
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    mixins.UpdateModelMixin,
    viewsets.GenericViewSet[Project],
):
    """Projects you are a member of (or steward). Creating one makes you its owner;
    editing needs the manager role. Projects are archived, never deleted."""

    serializer_class = ProjectSerializer
    queryset = Project.objects.none()

    def get_queryset(self) -> QuerySet[Project]:
        return selectors.project_list(user=self.request.user)

    def get_object(self) -> Project:
        needs = access.VIEW if self.request.method in ("GET", "HEAD", "OPTIONS") else access.MANAGE
        return access.project_for_user(self.request.user, self.kwargs["pk"], needs=needs).project

    def perform_create(self, serializer: serializers.BaseSerializer[Project]) -> None:
        user = authenticated_user(self.request)
        serializer.instance = _django_errors(
            lambda: services.project_create(creator=user, **serializer.validated_data)
        )

    def perform_update(self, serializer: serializers.BaseSerializer[Project]) -> None:
        project = cast(Project, serializer.instance)
        serializer.instance = _django_errors(
            lambda: services.project_update(project=project, **serializer.validated_data)
        )


class MemberSerializer(serializers.ModelSerializer[User]):
    name = serializers.CharField(source="get_full_name", read_only=True)

    class Meta:
        model = User
        fields = ["id", "username", "name", "orcid"]
        read_only_fields = fields


class MembershipSerializer(serializers.ModelSerializer[Membership]):
    user = MemberSerializer(read_only=True)
    username = serializers.SlugRelatedField(
        slug_field="username",
        queryset=User.objects.filter(is_active=True),
        write_only=True,
        help_text="Username of an existing user to add (invite new people from the web page).",
    )

    class Meta:
        model = Membership
        fields = ["id", "user", "username", "role", "created_at"]
        read_only_fields = ["created_at"]

    def get_fields(self) -> dict[str, serializers.Field[Any, Any, Any, Any]]:
        fields = super().get_fields()
        if self.instance is not None:
            fields["username"].read_only = True
            fields["username"].required = False
        return fields


class MembershipRoleSerializer(serializers.ModelSerializer[Membership]):
    """What a change to a membership may send: its role (the person stays the same)."""

    class Meta:
        model = Membership
        fields = ["role"]


_project_pk = OpenApiParameter("project_pk", OpenApiTypes.INT, OpenApiParameter.PATH)


@extend_schema_view(
    list=extend_schema(parameters=[_project_pk]),
    retrieve=extend_schema(parameters=[_project_pk]),
    create=extend_schema(parameters=[_project_pk]),
    update=extend_schema(parameters=[_project_pk], request=MembershipRoleSerializer),
    partial_update=extend_schema(parameters=[_project_pk], request=MembershipRoleSerializer),
    destroy=extend_schema(parameters=[_project_pk]),
)
class MembershipViewSet(viewsets.ModelViewSet[Membership]):
    """Members of one project. Any member may list them; managers add members and change
    roles (only owners grant ownership); anyone may remove themselves."""

    serializer_class = MembershipSerializer
    queryset = Membership.objects.none()

    def _access(self, needs: str = access.VIEW) -> access.ProjectAccess:
        return access.project_for_user(self.request.user, self.kwargs["project_pk"], needs=needs)

    def check_permissions(self, request: Request) -> None:
        # Decide access before the body is validated, so a stranger gets 404, not a 400
        # that would reveal the project exists; removal rules live in the service.
        super().check_permissions(request)
        writes = request.method in ("POST", "PUT", "PATCH")
        self._access(access.MANAGE if writes else access.VIEW)

    def get_queryset(self) -> QuerySet[Membership]:
        return selectors.project_members(project=self._access().project)

    def perform_create(self, serializer: serializers.BaseSerializer[Membership]) -> None:
        project_access = self._access(access.MANAGE)
        data = serializer.validated_data
        serializer.instance = _django_errors(
            lambda: services.membership_add(
                project=project_access.project,
                actor_role=project_access.role,
                user=data["username"],
                role=data["role"],
                actor=authenticated_user(self.request),
            )
        )

    def perform_update(self, serializer: serializers.BaseSerializer[Membership]) -> None:
        project_access = self._access(access.MANAGE)
        membership = cast(Membership, serializer.instance)
        role = serializer.validated_data.get("role", membership.role)
        serializer.instance = _django_errors(
            lambda: services.membership_change_role(
                membership=membership,
                actor_role=project_access.role,
                role=role,
                actor=authenticated_user(self.request),
            )
        )

    def perform_destroy(self, instance: Membership) -> None:
        project_access = self._access()
        user = authenticated_user(self.request)
        _django_errors(
            lambda: services.membership_remove(
                membership=instance, actor=user, actor_role=project_access.role
            )
        )


class TeamSerializer(serializers.ModelSerializer[Team]):
    members = serializers.SlugRelatedField[User](slug_field="username", many=True, read_only=True)
    facility = serializers.PrimaryKeyRelatedField(
        queryset=Facility.objects.all(), allow_null=True, required=False
    )

    class Meta:
        model = Team
        fields = ["id", "name", "description", "facility", "members"]


class TeamViewSet(
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    mixins.UpdateModelMixin,
    viewsets.GenericViewSet[Team],
):
    """Teams (labs, groups) you belong to; creating one makes you its first member."""

    serializer_class = TeamSerializer
    queryset = Team.objects.none()

    def get_queryset(self) -> QuerySet[Team]:
        return selectors.teams_for_user(user=self.request.user).prefetch_related("members")

    def get_object(self) -> Team:
        return access.team_for_user(self.request.user, self.kwargs["pk"])

    def perform_create(self, serializer: serializers.BaseSerializer[Team]) -> None:
        user = authenticated_user(self.request)
        serializer.instance = _django_errors(
            lambda: services.team_create(creator=user, **serializer.validated_data)
        )

    def perform_update(self, serializer: serializers.BaseSerializer[Team]) -> None:
        team = cast(Team, serializer.instance)
        serializer.instance = _django_errors(
            lambda: services.team_update(team=team, **serializer.validated_data)
        )


@extend_schema(parameters=[AuditFilterSerializer])
class ProjectAuditLogView(generics.ListAPIView[AuditEvent]):
    """The project's audit log, newest first: who changed answers, release dates, submission states
    and memberships, when, and from what to what. For the project's owners and its facility's data
    stewards; other members get 403."""

    serializer_class = AuditEventSerializer
    pagination_class = AuditCursorPagination
    queryset = AuditEvent.objects.none()

    def get_queryset(self) -> QuerySet[AuditEvent]:
        # Access first, so a stranger gets 404 whatever the filters say.
        project = access.project_for_audit_log(self.request.user, self.kwargs["pk"]).project
        filters = AuditFilterSerializer(data=self.request.query_params)
        filters.is_valid(raise_exception=True)
        return audit_selectors.project_events(
            project_id=project.pk,
            action=filters.validated_data.get("action", ""),
            actor_id=filters.validated_data.get("actor"),
        )
