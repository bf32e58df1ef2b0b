from __future__ import annotations

from typing import Any, cast

from django import forms

from audit.models import Action


class AuditFilterForm(forms.Form):
    """Filters of the audit log page; ``actors`` are the people who appear in the log."""

    action = forms.ChoiceField(label="Action", choices=[("", "All actions"), *Action.choices], required=False)
    actor = forms.TypedChoiceField(label="Person", coerce=int, empty_value=None, required=False)
    before = forms.IntegerField(min_value=1, required=False, widget=forms.HiddenInput)

    def __init__(self, data: Any, *, actors: list[tuple[int, str]]) -> None:
        super().__init__(data)
        cast(forms.TypedChoiceField, self.fields["actor"]).choices = [("", "Everyone"), *actors]
