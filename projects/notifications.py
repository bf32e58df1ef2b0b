"""Emails sent on behalf of projects."""

from __future__ import annotations

from django.conf import settings
from django.core import signing
from django.core.mail import send_mail
from django.template.loader import render_to_string
from django.urls import reverse

from projects.models import Invitation

INVITATION_SALT = "projects.invitation"


def invitation_token(invitation: Invitation) -> str:
    return signing.dumps({"i": invitation.pk, "n": invitation.nonce}, salt=INVITATION_SALT)


def invitation_url(invitation: Invitation) -> str:
    path = reverse("projects:invitation_accept", args=[invitation_token(invitation)])
    return settings.FAIRLIGHT_BASE_URL.rstrip("/") + path


def invitation_send_email(invitation: Invitation) -> None:
    context = {"invitation": invitation, "url": invitation_url(invitation)}
    subject = render_to_string("projects/email/invitation_subject.txt", context).strip()
    body = render_to_string("projects/email/invitation_body.txt", context)
    send_mail(subject, body, None, [invitation.email])
