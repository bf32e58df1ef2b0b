"""Byte counts for people, in decimal units: storage is sold, billed and limited (Zenodo's 50 GB
a record) in powers of 1000, so the plans, estimates and repository advice all speak them."""

from __future__ import annotations

_UNITS = ((10**15, "PB"), (10**12, "TB"), (10**9, "GB"), (10**6, "MB"), (10**3, "kB"))


def decimal_bytes(value: float) -> str:
    """1.5 TB, 320 GB, 8,000 PB: three significant digits, whole numbers from 1,000 up."""
    for size, unit in _UNITS:
        if value >= size:
            return f"{value / size:,.3g} {unit}" if value / size < 1000 else f"{value / size:,.0f} {unit}"
    return f"{value:,.0f} B"
