from __future__ import annotations

from django.contrib import admin

from projects.models import Facility, Invitation, Membership, Project, StorageRoot, Team


class StorageRootInline(admin.TabularInline[StorageRoot, Facility]):
    model = StorageRoot
    extra = 0


@admin.register(Facility)
class FacilityAdmin(admin.ModelAdmin[Facility]):
    list_display = ("name", "contact_email")
    search_fields = ("name",)
    filter_horizontal = ("stewards",)
    inlines = [StorageRootInline]


@admin.register(StorageRoot)
class StorageRootAdmin(admin.ModelAdmin[StorageRoot]):
    list_display = ("name", "facility", "path", "quota_bytes")
    list_filter = ("facility",)


@admin.register(Team)
class TeamAdmin(admin.ModelAdmin[Team]):
    list_display = ("name", "facility")
    search_fields = ("name",)
    filter_horizontal = ("members",)


class MembershipInline(admin.TabularInline[Membership, Project]):
    model = Membership
    extra = 0
    autocomplete_fields = ("user",)


@admin.register(Project)
class ProjectAdmin(admin.ModelAdmin[Project]):
    list_display = ("title", "acronym", "funder", "grant_id", "team", "facility", "status", "updated_at")
    list_filter = ("status", "facility")
    search_fields = ("title", "acronym", "grant_id")
    inlines = [MembershipInline]


@admin.register(Membership)
class MembershipAdmin(admin.ModelAdmin[Membership]):
    list_display = ("project", "user", "role", "created_at")
    list_filter = ("role",)
    search_fields = ("project__title", "user__username")
    autocomplete_fields = ("user", "project")


@admin.register(Invitation)
class InvitationAdmin(admin.ModelAdmin[Invitation]):
    list_display = ("email", "project", "role", "created_at", "expires_at", "accepted_at")
    list_filter = ("role",)
    search_fields = ("email", "project__title")
    readonly_fields = ("nonce", "accepted_at", "accepted_by")
