"""REST API for plans and their answers (/api/v1/plans/); saves carry the version the client
saw, and a stale one gets 409 with both values, as in the web wizard."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db.models import QuerySet
from django.http import Http404
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import exceptions, mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response

from accounts.requests import authenticated_user
from dmp import answers, madmp
from dmp.models import Answer, Plan, Template
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
        plan = Plan.objects.select_related("template", "project").filter(pk=self.kwargs["pk"]).first()
        if plan is None:
            raise Http404("No such plan.")
        access.project_for_user(self.request.user, plan.project_id)
        return plan

    @extend_schema(responses={(200, "application/json"): OpenApiTypes.OBJECT})
    @action(detail=True, methods=["get"], pagination_class=None)
    def madmp(self, request: Request, pk: str) -> Response:
        """The plan as an RDA DMP Common Standard 1.2 maDMP, valid against the official schema."""
        return Response(madmp.plan_madmp(self.get_object()))

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
