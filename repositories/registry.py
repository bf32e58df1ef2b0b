"""Which archives FAIRlight can package for: one `RepositoryTarget` per key.

A new archive module adds its target to `_TARGETS`; everything else (views, API, services)
asks this registry and never imports an archive module itself.
"""

from __future__ import annotations

from functools import cache

from django.core.exceptions import ValidationError

from repositories.base import RepositoryTarget
from repositories.bia import BiaTarget
from repositories.idr.target import IdrTarget
from repositories.models import Target
from repositories.zenodo.target import ZenodoTarget


@cache
def _targets() -> dict[str, RepositoryTarget]:
    targets: list[RepositoryTarget] = [BiaTarget(), IdrTarget(), ZenodoTarget()]
    return {target.key: target for target in targets}


def available() -> list[RepositoryTarget]:
    return list(_targets().values())


def is_available(key: str) -> bool:
    return key in _targets()


def target_for(key: str) -> RepositoryTarget:
    """The target of an archive, or ValidationError when FAIRlight cannot package for it yet."""
    target = _targets().get(key)
    if target is None:
        label = dict(Target.choices).get(key)
        if label is None:
            raise ValidationError(f"“{key}” is not a repository FAIRlight knows.")
        raise ValidationError(f"Packages for {label} are not available in FAIRlight yet.")
    return target
