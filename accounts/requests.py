from __future__ import annotations

from django.core.exceptions import PermissionDenied
from django.http import HttpRequest
from rest_framework.request import Request

from accounts.models import User


def authenticated_user(request: HttpRequest | Request) -> User:
    """The logged-in user of a view that requires login (typed for the services)."""
    user = request.user
    if not isinstance(user, User):
        raise PermissionDenied("Log in first.")
    return user
