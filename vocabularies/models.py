from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _


class Ontology(models.TextChoices):
    EDAM_BIOIMAGING = "edam_bioimaging", _("EDAM-bioimaging")
    EDAM_FORMAT = "edam_format", _("EDAM formats")
    FBBI = "fbbi", _("FBbi imaging methods")
    NCBITAXON = "ncbitaxon", _("NCBI Taxonomy")
    SPDX = "spdx", _("SPDX licences")
    LOCAL_FORMAT = "local_format", _("FAIRlight formats")


class OntologyTerm(models.Model):
    """One term of a controlled vocabulary, loaded from the files in vocabularies/data/.

    Rows are never deleted: a term that leaves its source is marked obsolete, so records that
    point at it keep a label to show.
    """

    ontology = models.CharField(_("ontology"), max_length=20, choices=Ontology.choices)
    iri = models.CharField(
        _("IRI"),
        max_length=500,
        help_text=_("The term's identifier on the web, e.g. http://purl.obolibrary.org/obo/FBbi_00000251."),
    )
    curie = models.CharField(
        _("short id"),
        max_length=200,
        help_text=_("The id people write, e.g. FBbi:00000251, NCBITaxon:10090, format_3727 or MIT."),
    )
    label = models.CharField(_("label"), max_length=500)
    synonyms = models.JSONField(_("synonyms"), default=list, blank=True)
    definition = models.TextField(_("definition"), blank=True)
    parents = models.JSONField(
        _("parents"), default=list, blank=True, help_text=_("IRIs of the broader terms (subClassOf).")
    )
    obsolete = models.BooleanField(
        _("obsolete"),
        default=False,
        help_text=_("Deprecated by its source, or gone from it; hidden from searches, kept for old records."),
    )
    search_text = models.TextField(
        _("search text"),
        editable=False,
        help_text=_("Normalised label, synonyms and short id (see vocabularies/search.py)."),
    )

    class Meta:
        verbose_name = _("ontology term")
        verbose_name_plural = _("ontology terms")
        ordering = ["ontology", "label"]
        constraints = [
            # The loader matches rows to source terms by IRI; two rows for one IRI would split the
            # records that use the term.
            models.UniqueConstraint(fields=["ontology", "iri"], name="term_unique_iri"),
        ]
        indexes = [
            # Label prefixes are prefixes of search_text (label first), so LIKE 'q%' can be an index
            # range scan. PostgreSQL needs the pattern operator class for that under a non-C collation.
            # SQLite ignores it and needs a NOCASE index instead, which migration 0001 adds by SQL:
            # re-create it after any migration that makes SQLite rebuild this table.
            models.Index(fields=["search_text"], name="term_search_prefix", opclasses=["text_pattern_ops"]),
        ]

    def __str__(self) -> str:
        return f"{self.label} ({self.curie})"
