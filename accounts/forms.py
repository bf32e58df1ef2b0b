from __future__ import annotations

from typing import Any

from django import forms
from django.contrib.auth.forms import UserCreationForm

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
