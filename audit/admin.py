from __future__ import annotations

from django.contrib import admin
from django.http import HttpRequest

from audit.models import AuditEvent


@admin.register(AuditEvent)
class AuditEventAdmin(admin.ModelAdmin[AuditEvent]):
    """Read-only: the log is written by the services that make the changes, and an audit trail
    that could be edited or pruned here would prove nothing."""

    list_display = ("at", "actor_name", "project_id", "action", "object_label")
    list_filter = ("action",)
    search_fields = ("actor_name", "object_label", "note")
    date_hierarchy = "at"

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: AuditEvent | None = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: AuditEvent | None = None) -> bool:
        return False
