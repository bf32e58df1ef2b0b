"""A corpus of valid and invalid REMBI records: the valid examples and systematic mutations."""

from __future__ import annotations

import copy
import zlib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import yaml

EXAMPLES = Path(__file__).resolve().parents[2] / "metadata" / "schema" / "examples" / "valid.yaml"

# Values that break a field's type, pattern, enum or bounds (or happen to satisfy them).
REPLACEMENTS: list[Any] = [
    None,
    "",
    "text",
    0,
    -1,
    2.5,
    True,
    [],
    ["a"],
    {},
    {"term_id": "x", "label": "y"},
    "0000-0002-1825-009X",
    "2026-02-30",
    "2026-13-01",
    "NCBITaxon:abc",
    "FBbi:123",
    "10.1234/abc",
    "https://example.org/",
    "not a uri",
    "CC0-1.0",
]


def examples() -> dict[str, dict[str, Any]]:
    return dict(yaml.safe_load(EXAMPLES.read_text()))


def _paths(value: Any, prefix: tuple[Any, ...] = ()) -> Iterator[tuple[Any, ...]]:
    if isinstance(value, dict):
        for key, item in value.items():
            yield (*prefix, key)
            yield from _paths(item, (*prefix, key))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield (*prefix, index)
            yield from _paths(item, (*prefix, index))


def _set(record: Any, path: tuple[Any, ...], value: Any) -> Any:
    mutated = copy.deepcopy(record)
    target = mutated
    for part in path[:-1]:
        target = target[part]
    target[path[-1]] = value
    return mutated


def _delete(record: Any, path: tuple[Any, ...]) -> Any:
    mutated = copy.deepcopy(record)
    target = mutated
    for part in path[:-1]:
        target = target[part]
    del target[path[-1]]
    return mutated


def corpus() -> Iterator[tuple[str, Any]]:
    """(class name, record) pairs: each example, each field deleted, replaced and extended."""
    for class_name, record in examples().items():
        yield class_name, record
        yield class_name, "not an object"
        yield class_name, {**record, "unexpected_field": 1}
        for path in _paths(record):
            yield class_name, _delete(record, path)
            for index, replacement in enumerate(REPLACEMENTS):
                # Every field gets a few replacements; which ones rotates with the path.
                if (len(path) + index + zlib.crc32(str(path[-1]).encode()) % 7) % 4 == 0:
                    yield class_name, _set(record, path, replacement)
