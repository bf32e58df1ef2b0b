from __future__ import annotations

from django.contrib import admin

from dmp.models import (
    AnswerRevision,
    Comment,
    DatasetLink,
    FacilityGuidance,
    PlanSnapshot,
    ReviewRequest,
    Template,
)


@admin.register(Template)
class TemplateAdmin(admin.ModelAdmin[Template]):
    list_display = ("title", "key", "version", "funder", "loaded_at")
    readonly_fields = ("key", "version", "title", "funder", "source", "content", "sha256", "loaded_at")


@admin.register(FacilityGuidance)
class FacilityGuidanceAdmin(admin.ModelAdmin[FacilityGuidance]):
    list_display = ("facility", "template_key", "question_key", "updated_at")
    list_filter = ("facility", "template_key")
    search_fields = ("question_key", "text")


@admin.register(Comment)
class CommentAdmin(admin.ModelAdmin[Comment]):
    list_display = ("plan", "question_key", "block_id", "author", "resolved", "created_at")
    list_filter = ("resolved",)
    search_fields = ("plan__title", "question_key", "text")
    raw_id_fields = ("plan", "author", "resolved_by")


@admin.register(ReviewRequest)
class ReviewRequestAdmin(admin.ModelAdmin[ReviewRequest]):
    list_display = ("plan", "facility", "status", "requested_by", "requested_at", "reviewed_at")
    list_filter = ("status", "facility")
    search_fields = ("plan__title", "message", "summary")
    raw_id_fields = ("plan", "requested_by", "reviewed_by")


@admin.register(PlanSnapshot)
class PlanSnapshotAdmin(admin.ModelAdmin[PlanSnapshot]):
    list_display = ("plan", "name", "template", "created_by", "created_at")
    search_fields = ("plan__title", "name")
    raw_id_fields = ("plan", "created_by")
    # A snapshot is a record of the past: restoring one makes a new version instead of editing it.
    readonly_fields = ("plan", "name", "template", "title", "blocks", "answers", "created_by", "created_at")


@admin.register(AnswerRevision)
class AnswerRevisionAdmin(admin.ModelAdmin[AnswerRevision]):
    list_display = ("plan", "question_key", "block_id", "version", "changed_by", "changed_at")
    search_fields = ("plan__title", "question_key")
    readonly_fields = ("plan", "question_key", "block_id", "value", "version", "changed_by", "changed_at")


@admin.register(DatasetLink)
class DatasetLinkAdmin(admin.ModelAdmin[DatasetLink]):
    list_display = ("plan", "block_id", "dataset", "confirmed_by", "confirmed_at")
    search_fields = ("plan__title", "dataset__title")
    raw_id_fields = ("plan", "dataset", "confirmed_by")
