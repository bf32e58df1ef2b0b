"""Reading the audit log of one project, newest first, one page at a time.

Callers decide access first (projects.access.project_for_audit_log); these functions only read.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.db.models import QuerySet

from audit.models import AuditEvent

PAGE_SIZE = 50


def project_events(*, project_id: int, action: str = "", actor_id: int | None = None) -> QuerySet[AuditEvent]:
    events = AuditEvent.objects.filter(project_id=project_id)
    if action:
        events = events.filter(action=action)
    if actor_id is not None:
        events = events.filter(actor_id=actor_id)
    return events.order_by("-id")


@dataclass(frozen=True)
class EventPage:
    events: list[AuditEvent]
    # The id to pass as ``before`` for the next (older) page; None on the last page.
    older: int | None


def event_page(
    *,
    project_id: int,
    action: str = "",
    actor_id: int | None = None,
    before: int | None = None,
    size: int = PAGE_SIZE,
) -> EventPage:
    """A page of events older than ``before`` (keyset paging: as fast on page 1000 as on page 1)."""
    events = project_events(project_id=project_id, action=action, actor_id=actor_id)
    if before is not None:
        events = events.filter(id__lt=before)
    rows = list(events[: size + 1])
    page = rows[:size]
    return EventPage(events=page, older=page[-1].pk if len(rows) > size else None)


def project_actors(*, project_id: int) -> list[tuple[int, str]]:
    """Everyone with an event in the project's log (id, name), for the filter by person."""
    rows = (
        AuditEvent.objects.filter(project_id=project_id, actor__isnull=False)
        .values_list("actor_id", "actor_name")
        .order_by("actor_name", "actor_id")
        .distinct()
    )
    names: dict[int, str] = {}
    for actor_id, name in rows:
        names.setdefault(actor_id, name)
    return sorted(names.items(), key=lambda item: item[1].lower())
