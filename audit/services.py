"""Writing the audit log. Apps call `record` from the service function that makes a change,
inside its transaction, so the event exists exactly when the change does and names the person
the service acted for (signals would know neither)."""

from __future__ import annotations

import json
from typing import Any, Protocol

from django.core.serializers.json import DjangoJSONEncoder

from audit.models import Action, AuditEvent

# The log says what changed; the full value stays in the app's own history (answer revisions,
# submission events), so long values are cut here rather than stored twice.
MAX_VALUE_CHARS = 500
MAX_LABEL_CHARS = 300
MAX_NOTE_CHARS = 2000


class Actor(Protocol):
    """The person acting: accounts.User, named structurally so audit imports none of our apps."""

    @property
    def pk(self) -> Any: ...

    def display_name(self) -> str: ...


def _cut(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def short_value(value: Any) -> Any:
    """``value`` as JSON (dates as ISO strings); longer than MAX_VALUE_CHARS, a cut string."""
    encoded = json.loads(json.dumps(value, cls=DjangoJSONEncoder))
    if isinstance(encoded, str):
        return _cut(encoded, MAX_VALUE_CHARS)
    text = json.dumps(encoded, ensure_ascii=False)
    return encoded if len(text) <= MAX_VALUE_CHARS else _cut(text, MAX_VALUE_CHARS)


def record(
    *,
    action: Action,
    project_id: int,
    actor: Actor | None,
    object_type: str,
    object_id: int | None,
    object_label: str,
    old: Any = None,
    new: Any = None,
    note: str = "",
) -> AuditEvent:
    """Add one event to the project's log; ``actor`` None means the system made the change."""
    event = AuditEvent(
        action=action,
        project_id=project_id,
        actor_id=actor.pk if actor is not None else None,
        actor_name=_cut(actor.display_name(), 200) if actor is not None else "",
        object_type=object_type,
        object_id=object_id,
        object_label=_cut(object_label, MAX_LABEL_CHARS),
        old=short_value(old),
        new=short_value(new),
        note=_cut(note, MAX_NOTE_CHARS),
    )
    # The actor is the service's own caller, loaded already: checking that the account exists would
    # cost a query per event (a restore writes one per answer) and prove nothing.
    event.full_clean(exclude=["actor"])
    event.save()
    return event
