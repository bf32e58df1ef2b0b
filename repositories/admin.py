from __future__ import annotations

from django.contrib import admin

from repositories.models import Submission, SubmissionEvent


class SubmissionEventInline(admin.TabularInline[SubmissionEvent, Submission]):
    model = SubmissionEvent
    extra = 0
    can_delete = False
    readonly_fields = ["from_state", "to_state", "user", "at", "note"]

    def has_add_permission(self, request: object, obj: Submission | None = None) -> bool:
        # The history is written by the services only, so it stays a true record.
        return False


@admin.register(Submission)
class SubmissionAdmin(admin.ModelAdmin[Submission]):
    list_display = ["title", "project", "target", "state", "release_date", "accession", "updated_at"]
    list_filter = ["target", "state"]
    search_fields = ["title", "accession", "doi", "project__title"]
    # States change through the services (which record who and when), never by editing here.
    readonly_fields = [
        "state",
        "preflight",
        "checked_at",
        "package_path",
        "packaged_at",
        "build_started_at",
        "package_error",
        "created_by",
        "created_at",
        "updated_at",
    ]
    filter_horizontal = ["datasets"]
    inlines = [SubmissionEventInline]
