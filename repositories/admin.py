from __future__ import annotations

from django.contrib import admin

from repositories.models import CalendarFeedToken, EmbargoChange, ReminderSent, Submission, SubmissionEvent


class SubmissionEventInline(admin.TabularInline[SubmissionEvent, Submission]):
    model = SubmissionEvent
    extra = 0
    can_delete = False
    readonly_fields = ["from_state", "to_state", "user", "at", "note"]

    def has_add_permission(self, request: object, obj: Submission | None = None) -> bool:
        # The history is written by the services only, so it stays a true record.
        return False


class EmbargoChangeInline(admin.TabularInline[EmbargoChange, Submission]):
    model = EmbargoChange
    extra = 0
    can_delete = False
    readonly_fields = ["kind", "old_date", "new_date", "user", "at", "reason"]

    def has_add_permission(self, request: object, obj: Submission | None = None) -> bool:
        return False


class ReminderSentInline(admin.TabularInline[ReminderSent, Submission]):
    model = ReminderSent
    extra = 0
    can_delete = False
    readonly_fields = [
        "kind",
        "offset_days",
        "release_date",
        "publication_doi",
        "claimed_at",
        "sent_at",
        "recipients",
        "skipped_reason",
    ]
    exclude = ["enqueued_at"]

    def has_add_permission(self, request: object, obj: Submission | None = None) -> bool:
        # A reminder row means "claimed": adding one by hand would silence a real reminder.
        return False


@admin.register(Submission)
class SubmissionAdmin(admin.ModelAdmin[Submission]):
    list_display = ["title", "project", "target", "state", "release_date", "accession", "updated_at"]
    list_filter = ["target", "state"]
    search_fields = ["title", "accession", "doi", "project__title"]
    # States change through the services (which record who and when), never by editing here.
    readonly_fields = [
        "state",
        # Release dates change through the embargo form, which records who, when and why.
        "release_date",
        "publication_doi",
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
    inlines = [SubmissionEventInline, EmbargoChangeInline, ReminderSentInline]


@admin.register(CalendarFeedToken)
class CalendarFeedTokenAdmin(admin.ModelAdmin[CalendarFeedToken]):
    """Deleting an address here revokes it; addresses are made by their owners only."""

    list_display = ["user", "prefix", "created_at", "last_used_at"]
    search_fields = ["user__username", "prefix"]
    readonly_fields = ["user", "prefix", "created_at", "last_used_at"]

    def has_add_permission(self, request: object) -> bool:
        return False
