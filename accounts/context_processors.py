from __future__ import annotations

from django.conf import settings
from django.http import HttpRequest


def site(request: HttpRequest) -> dict[str, object]:
    return {"allow_signup": settings.FAIRLIGHT_ALLOW_SIGNUP}
