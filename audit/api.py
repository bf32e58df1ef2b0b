"""The audit log's API representation. The endpoint lives in projects/api.py, which decides
access (audit sits below projects and may not ask projects.access itself)."""

from __future__ import annotations

from typing import Any

from rest_framework import pagination, serializers

from audit.models import Action, AuditEvent


class AuditEventSerializer(serializers.ModelSerializer[AuditEvent]):
    actor = serializers.IntegerField(
        source="actor_id", allow_null=True, read_only=True, help_text="Id of the user; null for the system."
    )
    old = serializers.JSONField(
        read_only=True, allow_null=True, help_text="The value before (cut when long)."
    )
    new = serializers.JSONField(read_only=True, allow_null=True, help_text="The value after (cut when long).")

    class Meta:
        model = AuditEvent
        fields = [
            "id",
            "at",
            "actor",
            "actor_name",
            "action",
            "object_type",
            "object_id",
            "object_label",
            "old",
            "new",
            "note",
        ]
        read_only_fields = fields


class AuditFilterSerializer(serializers.Serializer[Any]):
    action = serializers.ChoiceField(choices=Action.choices, required=False, help_text="Only this action.")
    actor = serializers.IntegerField(min_value=1, required=False, help_text="Only changes by this user id.")


class AuditCursorPagination(pagination.CursorPagination):
    """Newest first by id; a cursor page is one index range read however long the log is."""

    ordering = "-id"
    page_size = 50
