from __future__ import annotations

from django.tasks import task

from projects.models import Invitation
from projects.notifications import invitation_send_email


@task()
def send_invitation_email(*, invitation_id: int) -> bool:
    """Email an invitation link; False when the invitation was withdrawn meanwhile."""
    invitation = (
        Invitation.objects.select_related("project", "invited_by")
        .filter(pk=invitation_id, accepted_at__isnull=True)
        .first()
    )
    if invitation is None:
        return False
    invitation_send_email(invitation)
    return True
