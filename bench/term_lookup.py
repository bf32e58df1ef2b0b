"""Ontology term look-up: load every shipped vocabulary, then time term_search() as autocomplete calls it.

Loads EDAM-bioimaging, EDAM formats, FBbi, NCBITaxon, SPDX and FAIRlight's formats into a scratch
SQLite database (timing the first load and an unchanged reload), then runs N queries of the kinds
people type: prefixes of labels and synonyms, whole labels, short ids, words, some with an ontology
filter, a few that match nothing. Prints p50, p95 and the slowest against the target.
Target: p95 under 50 ms per query.

    uv run python bench/term_lookup.py [--queries 200] [--seed 0]
"""

from __future__ import annotations

import argparse
import random
import shutil
import statistics
import tempfile
import time
from pathlib import Path

from _common import django_in_scratch, timed

TARGET_MS = 50.0
FIXED = ["confocal", "Mus musculus", "mouse", "OME-TIFF", "MIT", "zebrafish", "light sheet", "CZI", "tiff"]
NO_MATCH = ["qwxz", "zzzz microscopy", "not a term at all"]


def make_queries(count: int, seed: int) -> list[tuple[str, list[str] | None]]:
    from vocabularies.models import OntologyTerm

    rng = random.Random(seed)  # noqa: S311 - a repeatable choice of queries, not a secret
    terms = list(
        OntologyTerm.objects.filter(obsolete=False).values_list("ontology", "label", "synonyms", "curie")
    )
    queries: list[tuple[str, list[str] | None]] = [(q, None) for q in FIXED + NO_MATCH]
    while len(queries) < count:
        ontology, label, synonyms, curie = rng.choice(terms)
        kind = rng.randrange(5)
        if kind == 0:
            text = label[: rng.randint(2, 8)]  # typing the start of a label
        elif kind == 1 and synonyms:
            text = rng.choice(synonyms)[: rng.randint(3, 10)]
        elif kind == 2:
            text = curie
        elif kind == 3:
            words = label.split()
            text = rng.choice(words)[:6]
        else:
            text = label
        queries.append((text, [ontology] if rng.random() < 0.3 else None))
    return queries[:count]


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--queries", type=int, default=200)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    storage = Path(tempfile.mkdtemp(prefix="fairlight-bench-storage-"))
    scratch = django_in_scratch(storage)
    try:
        from vocabularies.models import OntologyTerm
        from vocabularies.selectors import term_search
        from vocabularies.services import ontologies_load

        print("term look-up benchmark: every shipped vocabulary in a scratch SQLite database")
        timed("load_ontologies, empty database", ontologies_load)
        timed("load_ontologies again, nothing changed", ontologies_load)
        print(f"  {OntologyTerm.objects.count()} terms loaded")

        queries = make_queries(args.queries, args.seed)
        for text, ontologies in queries[:10]:  # warm the connection and the page cache
            term_search(text, ontologies=ontologies)
        timings_ms = []
        found = 0
        for text, ontologies in queries:
            start = time.perf_counter()
            results = term_search(text, ontologies=ontologies, limit=20)
            timings_ms.append((time.perf_counter() - start) * 1000)
            found += bool(results)
        timings_ms.sort()
        p50 = statistics.median(timings_ms)
        p95 = timings_ms[max(0, round(0.95 * len(timings_ms)) - 1)]
        print(f"  {len(queries)} queries, {found} with results")
        slowest = timings_ms[-1]
        print(f"  p50 {p50:6.2f} ms   p95 {p95:6.2f} ms   slowest {slowest:6.2f} ms", end="   ")
        print(f"(target p95 < {TARGET_MS:.0f} ms)")
        assert p95 < TARGET_MS, f"p95 {p95:.1f} ms misses the {TARGET_MS:.0f} ms target"
    finally:
        shutil.rmtree(storage, ignore_errors=True)
        shutil.rmtree(scratch, ignore_errors=True)


if __name__ == "__main__":
    main()
