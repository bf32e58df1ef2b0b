"""BioImage Archive packages: an RO-Crate following the BIA submission profile and PageTab."""

from __future__ import annotations

from repositories.bia.target import BiaTarget

__all__ = ["BiaTarget"]
