from __future__ import annotations

from typing import Any, cast

from django import forms

from accounts.models import User
from projects.models import Project, Role, Team


class DateInput(forms.DateInput):
    input_type = "date"


class ProjectForm(forms.ModelForm[Project]):
    class Meta:
        model = Project
        fields = [
            "title",
            "acronym",
            "description",
            "funder",
            "grant_id",
            "start_date",
            "end_date",
            "time_zone",
            "team",
            "facility",
            "status",
        ]
        widgets = {
            "start_date": DateInput(),
            "end_date": DateInput(),
            "description": forms.Textarea(attrs={"rows": 4}),
        }

    def __init__(self, *args: Any, user: User, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        team_field = cast(forms.ModelChoiceField[Team], self.fields["team"])
        # A project can only be put in a team its creator belongs to (or keep its current one).
        teams = Team.objects.filter(members=user)
        if self.instance.team_id:
            teams = teams | Team.objects.filter(pk=self.instance.team_id)
        team_field.queryset = teams.distinct()
        if self.instance.pk is None:
            del self.fields["status"]


class MemberAddForm(forms.Form):
    email = forms.EmailField(
        label="Email address",
        help_text="We email an invitation link; people without an account can sign up from it.",
    )
    role = forms.ChoiceField(choices=Role.choices, initial=Role.VIEWER)


class RoleForm(forms.Form):
    role = forms.ChoiceField(choices=Role.choices)


class TeamForm(forms.ModelForm[Team]):
    class Meta:
        model = Team
        fields = ["name", "description", "facility"]
        widgets = {"description": forms.Textarea(attrs={"rows": 3})}


class TeamMemberForm(forms.Form):
    username = forms.CharField(label="Username or email of an existing user")

    def clean_username(self) -> User:
        value = self.cleaned_data["username"].strip()
        user = User.objects.filter(username=value).first() or User.objects.filter(email__iexact=value).first()
        if user is None:
            raise forms.ValidationError(f"No user is called {value!r}.")
        return user
