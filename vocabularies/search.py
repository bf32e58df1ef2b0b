"""How term names are normalised for searching (plain Python, shared by the loader and the selectors).

A term's search text is its normalised label, then its normalised synonyms and short id, joined by
``SEPARATOR``: ``"ome tiff|ome tif|format 3727"``. Normalising folds case and turns punctuation into
spaces, so "OME-TIFF", "ome tiff" and "Ome_Tiff" are the same query, and "NCBITaxon:10090" is found
by "10090". The label comes first, so a label prefix is a prefix of the whole text.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable

SEPARATOR = "|"
_NOT_WORD = re.compile(r"[\W_]+")


def normalize(text: str) -> str:
    """Case-folded words of ``text`` separated by single spaces ("OME-TIFF" -> "ome tiff")."""
    folded = unicodedata.normalize("NFKC", text).casefold()
    return _NOT_WORD.sub(" ", folded).strip()


def search_text(label: str, names: Iterable[str]) -> str:
    """The label first, then every other name once, all normalised."""
    parts = [normalize(label)]
    for name in names:
        normalized = normalize(name)
        if normalized and normalized not in parts:
            parts.append(normalized)
    return SEPARATOR.join(parts)
