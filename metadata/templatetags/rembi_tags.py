from __future__ import annotations

from typing import Any

from django import template

register = template.Library()


@register.filter
def get_item(mapping: dict[str, Any] | None, key: str) -> Any:
    """mapping[key] in templates, where the key is a variable (a field's name)."""
    return (mapping or {}).get(key)
