from __future__ import annotations

from typing import Any

from django import forms
from django.contrib.admin.forms import AdminAuthenticationForm
from django.contrib.auth.forms import AuthenticationForm, UserCreationForm

from accounts import rate_limit
from accounts.identifiers import normalize_orcid, normalize_ror
from accounts.models import User


class ProfileForm(forms.ModelForm[User]):
    # Wider than the stored values: people paste the https://orcid.org/… and
    # https://ror.org/… forms, which clean_*() shorten before the model validates them.
    orcid = forms.CharField(
        label="ORCID iD",
        max_length=60,
        required=False,
        help_text=User._meta.get_field("orcid").help_text,
    )
    ror_id = forms.CharField(
        label="ROR id",
        max_length=60,
        required=False,
        help_text=User._meta.get_field("ror_id").help_text,
    )

    class Meta:
        model = User
        fields = ["first_name", "last_name", "email", "orcid", "affiliation", "ror_id"]

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["email"].required = True

    def clean_orcid(self) -> str:
        return normalize_orcid(self.cleaned_data["orcid"])

    def clean_ror_id(self) -> str:
        return normalize_ror(self.cleaned_data["ror_id"])


class ApiTokenForm(forms.Form):
    name = forms.CharField(max_length=100, help_text="What the token is for, e.g. 'lab pipeline'.")


class SignupForm(UserCreationForm[User]):
    class Meta(UserCreationForm.Meta):
        model = User
        fields = ("username", "first_name", "last_name", "email")

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["email"].required = True

    def clean_email(self) -> str:
        email: str = self.cleaned_data["email"]
        if User.objects.filter(email__iexact=email).exists():
            raise forms.ValidationError(
                "An account with this email address exists; log in or reset its password."
            )
        return email


class LoginForm(AuthenticationForm):
    """Refuses logins while too many recent ones failed for the username or the address
    (accounts/rate_limit.py), before the password is even checked."""

    def clean(self) -> dict[str, Any]:
        username = self.cleaned_data.get("username")
        if not username or not self.cleaned_data.get("password"):
            return super().clean()  # the empty field's own error; nothing was tried
        try:
            attempt = rate_limit.login_attempt(
                username=username, address=rate_limit.client_address(self.request)
            )
        except rate_limit.LoginLocked as locked:
            raise forms.ValidationError(str(locked), code="rate_limited") from None
        cleaned = super().clean()  # a wrong password raises here and stays counted
        rate_limit.login_succeeded(attempt)
        return cleaned


class AdminLoginForm(LoginForm, AdminAuthenticationForm):
    """The admin site's login (staff only), rate limited like the site's own."""
