from __future__ import annotations

from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as BaseUserAdmin

from accounts.forms import AdminLoginForm
from accounts.models import ApiToken, User

# The admin's own login page would otherwise let password guesses past the rate limit.
admin.site.login_form = AdminLoginForm


@admin.register(User)
class UserAdmin(BaseUserAdmin):  # type: ignore[type-arg]
    fieldsets = (
        *(BaseUserAdmin.fieldsets or ()),
        ("Researcher identity", {"fields": ("orcid", "affiliation", "ror_id")}),
    )
    list_display = ("username", "email", "first_name", "last_name", "orcid", "is_staff")


@admin.register(ApiToken)
class ApiTokenAdmin(admin.ModelAdmin[ApiToken]):
    list_display = ("name", "user", "prefix", "created_at", "last_used_at")
    readonly_fields = ("prefix", "key_hash", "created_at", "last_used_at")
    search_fields = ("name", "user__username")
