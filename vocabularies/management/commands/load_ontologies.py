from __future__ import annotations

import time
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from vocabularies.models import Ontology
from vocabularies.services import ontologies_load
from vocabularies.sources import SourceError


class Command(BaseCommand):
    help = (
        "Load the ontologies shipped in vocabularies/data/ (EDAM-bioimaging, EDAM formats, FBbi, "
        "NCBITaxon with ncbitaxon_local.tsv, SPDX licences, FAIRlight formats) into the term table. "
        "Safe to run again: unchanged terms stay as they are, terms gone from a source become obsolete."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--only",
            action="append",
            choices=Ontology.values,
            metavar="ONTOLOGY",
            help=f"Load only this ontology (repeatable): {', '.join(Ontology.values)}.",
        )

    def handle(self, *args: Any, only: list[str] | None, **options: Any) -> None:
        started = time.perf_counter()
        try:
            results = ontologies_load(only={Ontology(name) for name in only} if only else None)
        except SourceError as exc:
            raise CommandError(str(exc)) from None
        for ontology, result in results.items():
            moved = f" ({result.moved} moved to a new IRI)" if result.moved else ""
            self.stdout.write(
                f"{ontology.value:<16} {result.created:5} created, {result.updated:5} updated{moved}, "
                f"{result.unchanged:5} unchanged, {result.made_obsolete:5} made obsolete"
            )
        self.stdout.write(self.style.SUCCESS(f"Done in {time.perf_counter() - started:.1f} s."))
