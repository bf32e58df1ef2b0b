from __future__ import annotations

from typing import Any

from django import template

from dmp.fair import fair_score
from dmp.models import Plan
from metadata.units import decimal_bytes

register = template.Library()

register.filter("decimal_bytes", decimal_bytes)


@register.inclusion_tag("dmp/includes/fair_meters.html")
def fair_meters(plan: Plan) -> dict[str, Any]:
    return {"plan": plan, "scores": fair_score(plan)}
