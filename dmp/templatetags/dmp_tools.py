from __future__ import annotations

from typing import Any

from django import template

from dmp.fair import fair_score
from dmp.models import Plan

register = template.Library()

UNITS = ((10**15, "PB"), (10**12, "TB"), (10**9, "GB"), (10**6, "MB"), (10**3, "kB"))


@register.inclusion_tag("dmp/includes/fair_meters.html")
def fair_meters(plan: Plan) -> dict[str, Any]:
    return {"plan": plan, "scores": fair_score(plan)}


@register.filter
def decimal_bytes(value: float) -> str:
    """Bytes in decimal units (as storage is billed): 1.5 TB, 320 GB."""
    for size, unit in UNITS:
        if value >= size:
            return f"{value / size:,.3g} {unit}" if value / size < 1000 else f"{value / size:,.0f} {unit}"
    return f"{value:,.0f} B"
