from __future__ import annotations

from django.contrib import admin

from dmp.models import FacilityGuidance, Template


@admin.register(Template)
class TemplateAdmin(admin.ModelAdmin[Template]):
    list_display = ("title", "key", "version", "funder", "loaded_at")
    readonly_fields = ("key", "version", "title", "funder", "source", "content", "sha256", "loaded_at")


@admin.register(FacilityGuidance)
class FacilityGuidanceAdmin(admin.ModelAdmin[FacilityGuidance]):
    list_display = ("facility", "template_key", "question_key", "updated_at")
    list_filter = ("facility", "template_key")
    search_fields = ("question_key", "text")
