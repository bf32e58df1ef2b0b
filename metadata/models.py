from __future__ import annotations

import zlib

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Q
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from accounts.models import SecretKey, SecretKeyQuerySet
from metadata.imaging.formats import FORMAT_LABELS, Format
from projects.models import Facility, Project, StorageRoot

FORMAT_CHOICES = [(fmt.value, FORMAT_LABELS[fmt]) for fmt in Format]


class VerifyState(models.TextChoices):
    NEVER = "never", _("Never verified")
    INTACT = "intact", _("Copy verified")
    DIFFERS = "differs", _("Copy differs from the scan")


class Dataset(models.Model):
    """A folder on facility storage holding one body of image data of a project."""

    class Status(models.TextChoices):
        REGISTERED = "registered", _("Registered, not scanned")
        SCANNING = "scanning", _("Scanning")
        SCANNED = "scanned", _("Scanned")
        FAILED = "failed", _("Scan failed")

    project = models.ForeignKey(
        Project, on_delete=models.PROTECT, related_name="datasets", verbose_name=_("project")
    )
    title = models.CharField(_("title"), max_length=300)
    description = models.TextField(_("description"), blank=True)
    storage_root = models.ForeignKey(
        StorageRoot, on_delete=models.PROTECT, related_name="datasets", verbose_name=_("storage root")
    )
    relative_path = models.CharField(
        _("path"),
        max_length=1000,
        help_text=_("Folder inside the storage root, e.g. lab-a/2026-11-03_confocal."),
    )
    want_md5 = models.BooleanField(
        _("also compute MD5"),
        default=False,
        help_text=_("Zenodo lists MD5 checksums; other archives use SHA-256."),
    )
    status = models.CharField(_("status"), max_length=12, choices=Status.choices, default=Status.REGISTERED)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("created by"),
    )
    created_at = models.DateTimeField(_("registered at"), auto_now_add=True)
    # Totals kept by the scan so pages never aggregate millions of file rows.
    file_count = models.PositiveBigIntegerField(_("files"), default=0)
    total_bytes = models.PositiveBigIntegerField(_("bytes"), default=0)
    image_count = models.PositiveBigIntegerField(_("images"), default=0)
    error_count = models.PositiveBigIntegerField(_("files with errors"), default=0)
    format_summary = models.JSONField(_("formats"), default=dict, blank=True)
    instruments = models.JSONField(_("instruments"), default=list, blank=True)
    objectives = models.JSONField(_("objectives"), default=list, blank=True)
    monthly_bytes = models.JSONField(
        _("bytes by month"),
        default=dict,
        blank=True,
        help_text=_("Bytes by month of file modification, YYYY-MM."),
    )
    acquired_from = models.DateTimeField(_("first acquisition"), null=True, blank=True)
    acquired_to = models.DateTimeField(_("last acquisition"), null=True, blank=True)
    scanned_at = models.DateTimeField(_("last scanned"), null=True, blank=True)
    # What the last `dataset_verify` found: a facility deletes a source only once its copy is
    # verified, so the facility dashboard lists datasets never verified or found to differ.
    verify_state = models.CharField(
        _("copy verification"), max_length=10, choices=VerifyState.choices, default=VerifyState.NEVER
    )
    verified_at = models.DateTimeField(_("last verified"), null=True, blank=True)
    verify_message = models.TextField(
        _("verification result"), blank=True, help_text=_("What the last verification found, in plain words.")
    )

    class Meta:
        verbose_name = _("dataset")
        verbose_name_plural = _("datasets")
        ordering = ["-created_at"]
        constraints = [
            # One dataset per folder: two registrations would scan and count the same files twice.
            models.UniqueConstraint(fields=["storage_root", "relative_path"], name="dataset_unique_folder")
        ]

    def __str__(self) -> str:
        return self.title

    def get_absolute_url(self) -> str:
        return reverse("metadata:dataset_detail", args=[self.pk])

    @property
    def copy_verified(self) -> bool:
        """The last verification found every file intact, and no scan has changed the checksums since."""
        return (
            self.verify_state == VerifyState.INTACT
            and self.verified_at is not None
            and (self.scanned_at is None or self.verified_at >= self.scanned_at)
        )


class ImageFile(models.Model):
    """One file (or one OME-Zarr folder) of a dataset, with what its headers say."""

    dataset = models.ForeignKey(
        Dataset,
        on_delete=models.CASCADE,
        related_name="files",
        verbose_name=_("dataset"),
        # Every index below starts with the dataset; one more on it alone would only slow scans.
        db_index=False,
    )
    relative_path = models.CharField(_("path"), max_length=1000)
    size_bytes = models.PositiveBigIntegerField(_("size"))
    mtime = models.FloatField(
        _("modification time"), help_text=_("Seconds since the epoch, as the file system says.")
    )
    file_count = models.PositiveIntegerField(
        _("files"), default=1, help_text=_("More than one for OME-Zarr folders.")
    )
    format = models.CharField(_("format"), max_length=10, choices=FORMAT_CHOICES)
    is_image = models.BooleanField(_("is an image"), default=False)
    reader = models.CharField(_("reader"), max_length=100, blank=True)
    sha256 = models.CharField(_("SHA-256"), max_length=64, blank=True)
    md5 = models.CharField(_("MD5"), max_length=32, blank=True)
    metadata = models.JSONField(_("metadata"), default=dict, blank=True)
    instrument = models.CharField(_("instrument"), max_length=300, blank=True)
    objective = models.CharField(_("objective"), max_length=300, blank=True)
    acquired_at = models.DateTimeField(_("acquired at"), null=True, blank=True)
    ome_xml_gz = models.BinaryField(_("OME-XML (zlib)"), null=True, blank=True, editable=False)
    preview_png = models.BinaryField(_("preview (PNG)"), null=True, blank=True, editable=False)
    preview_error = models.TextField(_("why there is no preview"), blank=True)
    preview_at = models.DateTimeField(
        _("preview made at"), null=True, blank=True, help_text=_("Empty until the preview step has run.")
    )
    error_code = models.CharField(_("error"), max_length=24, blank=True)
    error = models.TextField(_("error message"), blank=True)
    scanned_at = models.DateTimeField(_("scanned at"))
    annotations = models.JSONField(
        _("annotations"),
        default=dict,
        blank=True,
        help_text=_(
            "Per-image annotation values by AnnotationColumn id; kept when the file is scanned again."
        ),
    )

    class Meta:
        verbose_name = _("image file")
        verbose_name_plural = _("image files")
        ordering = ["dataset", "relative_path"]
        constraints = [
            # Scans upsert by path, so a retried chunk can never add a second row.
            models.UniqueConstraint(fields=["dataset", "relative_path"], name="imagefile_unique_path")
        ]
        # The file list filters by format, instrument or errors within one dataset and pages by
        # path (keyset pagination), so each filter's index ends with the path: a page is one
        # index range read, whether the dataset has a thousand files or millions. The path
        # prefix filter uses a varchar_pattern_ops index that migration 0007 adds on
        # PostgreSQL only (SQLite has no operator classes, and its datasets are small).
        indexes = [
            models.Index(fields=["dataset", "format", "relative_path"], name="imagefile_format_path"),
            models.Index(fields=["dataset", "instrument", "relative_path"], name="imagefile_instrument_path"),
            models.Index(
                fields=["dataset", "relative_path"], name="imagefile_errors_path", condition=~Q(error_code="")
            ),
            # The file table's "largest first" sort.
            models.Index(fields=["dataset", "size_bytes"], name="imagefile_size"),
            # Min/Max of acquisition dates when a scan finishes, without reading every row.
            models.Index(fields=["dataset", "acquired_at"], name="imagefile_acquired"),
            # Images still waiting for a preview, queued when a scan finishes.
            models.Index(
                fields=["dataset", "id"],
                name="imagefile_needs_preview",
                condition=Q(preview_at__isnull=True, is_image=True, error_code=""),
            ),
        ]

    def __str__(self) -> str:
        return self.relative_path

    @property
    def has_preview(self) -> bool:
        return self.preview_at is not None and not self.preview_error

    @property
    def ome_xml(self) -> str | None:
        return zlib.decompress(bytes(self.ome_xml_gz)).decode() if self.ome_xml_gz else None


class ScanRun(models.Model):
    """One scan of a dataset, split into chunks that any worker may run."""

    class Status(models.TextChoices):
        PLANNING = "planning", _("Listing files")
        RUNNING = "running", _("Running")
        SUCCEEDED = "succeeded", _("Finished")
        FAILED = "failed", _("Failed")

    dataset = models.ForeignKey(
        Dataset, on_delete=models.CASCADE, related_name="scans", verbose_name=_("dataset")
    )
    status = models.CharField(_("status"), max_length=10, choices=Status.choices, default=Status.PLANNING)
    started_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    finished_at = models.DateTimeField(_("finished at"), null=True, blank=True)
    files_total = models.PositiveBigIntegerField(default=0)
    bytes_total = models.PositiveBigIntegerField(default=0)
    files_done = models.PositiveBigIntegerField(default=0)
    bytes_done = models.PositiveBigIntegerField(default=0)
    files_skipped = models.PositiveBigIntegerField(
        default=0, help_text=_("Unchanged since the last scan (same size and time), not re-read.")
    )
    files_failed = models.PositiveBigIntegerField(default=0)
    chunks_total = models.PositiveIntegerField(default=0)
    message = models.TextField(blank=True)

    class Meta:
        verbose_name = _("scan run")
        verbose_name_plural = _("scan runs")
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"Scan {self.pk} of {self.dataset}"

    @property
    def is_active(self) -> bool:
        return self.status in (self.Status.PLANNING, self.Status.RUNNING)


class ScanChunk(models.Model):
    """A slice of a scan's work; claimed by one worker at a time, re-run if that worker dies."""

    class Status(models.TextChoices):
        PENDING = "pending", _("Pending")
        RUNNING = "running", _("Running")
        DONE = "done", _("Done")

    scan = models.ForeignKey(ScanRun, on_delete=models.CASCADE, related_name="chunks")
    index = models.PositiveIntegerField()
    paths = models.JSONField(help_text=_("Relative paths of the units in this chunk."))
    status = models.CharField(max_length=8, choices=Status.choices, default=Status.PENDING)
    worker = models.CharField(max_length=100, blank=True)
    attempts = models.PositiveIntegerField(default=0)
    claimed_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["scan", "index"]
        constraints = [models.UniqueConstraint(fields=["scan", "index"], name="scanchunk_unique_index")]

    def __str__(self) -> str:
        return f"chunk {self.index} of scan {self.scan_id}"


REMBI_CLASS_CHOICES = [
    ("Study", _("Study")),
    ("StudyComponent", _("Study component")),
    ("Biosample", _("Biosample")),
    ("Specimen", _("Specimen")),
    ("ImageAcquisition", _("Image acquisition")),
    ("ImageData", _("Image data")),
    ("ImageCorrelation", _("Image correlation")),
    ("AnalyzedData", _("Analyzed data")),
    ("AnnotationMethod", _("Annotation method")),
]


class RembiRecord(models.Model):
    """One REMBI module record (JSON valid against the LinkML class of the same name).

    Records belong to a project and are used by its datasets: the Study is shared by all of
    them, biosamples, specimens and acquisitions can be reused across datasets (REMBI's
    associations), and each dataset has its own StudyComponent and ImageData.
    """

    project = models.ForeignKey(
        Project, on_delete=models.CASCADE, related_name="rembi_records", verbose_name=_("project")
    )
    class_name = models.CharField(_("REMBI module"), max_length=20, choices=REMBI_CLASS_CHOICES)
    title = models.CharField(_("title"), max_length=300)
    data = models.JSONField(_("record"), default=dict)
    prefilled = models.JSONField(
        _("prefilled fields"),
        default=dict,
        blank=True,
        help_text=_("Field name → where its value came from, for fields filled from the scan."),
    )
    datasets = models.ManyToManyField(
        Dataset, blank=True, related_name="rembi_records", verbose_name=_("datasets")
    )
    version = models.PositiveIntegerField(
        _("version"), default=1, help_text=_("Raised by every save; a save from an older version is refused.")
    )
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )

    class Meta:
        verbose_name = _("REMBI record")
        verbose_name_plural = _("REMBI records")
        ordering = ["project", "class_name", "title"]
        constraints = [
            # StudyComponents name the records they use by title, so titles are unique per module.
            models.UniqueConstraint(
                fields=["project", "class_name", "title"], name="rembirecord_unique_title"
            ),
            # One Study per project, shared by its datasets.
            models.UniqueConstraint(
                fields=["project"], condition=Q(class_name="Study"), name="rembirecord_one_study"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_class_name_display()}: {self.title}"


class Instrument(models.Model):
    """A microscope of a facility with its parts, so that acquisitions can name it exactly.

    Scanned files are matched to it by serial number, or by manufacturer and model, and the
    ImageAcquisition form is prefilled from it.
    """

    facility = models.ForeignKey(
        Facility, on_delete=models.CASCADE, related_name="instruments", verbose_name=_("facility")
    )
    name = models.CharField(
        _("name"), max_length=200, help_text=_("What people call it, e.g. LSM 980 (room 2.14).")
    )
    manufacturer = models.CharField(_("manufacturer"), max_length=200, blank=True)
    model = models.CharField(_("model"), max_length=200, blank=True)
    serial_number = models.CharField(_("serial number"), max_length=200, blank=True)
    microscope_type = models.CharField(
        _("type"),
        max_length=50,
        blank=True,
        help_text=_("Upright, inverted, dissection, electrophysiology, other."),
    )
    description = models.TextField(
        _("description"), blank=True, help_text=_("Configuration worth citing, e.g. scan heads, incubation.")
    )
    objectives = models.JSONField(_("objectives"), default=list, blank=True)
    detectors = models.JSONField(_("detectors"), default=list, blank=True)
    light_sources = models.JSONField(_("light sources"), default=list, blank=True)
    filters = models.JSONField(_("filters"), default=list, blank=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    class Meta:
        verbose_name = _("instrument")
        verbose_name_plural = _("instruments")
        ordering = ["facility", "name"]
        constraints = [models.UniqueConstraint(fields=["facility", "name"], name="instrument_unique_name")]

    def __str__(self) -> str:
        return self.name

    @property
    def label(self) -> str:
        return " ".join(part for part in (self.manufacturer, self.model) if part) or self.name


class AnnotationColumn(models.Model):
    """A per-image annotation a project records, e.g. genotype, treatment, time post-infection.

    Values feed the IDR annotation.csv and the BioImage Archive's file-list columns.
    """

    class Kind(models.TextChoices):
        TEXT = "text", _("Text")
        NUMBER = "number", _("Number")
        CHOICE = "choice", _("One of a list")

    project = models.ForeignKey(
        Project, on_delete=models.CASCADE, related_name="annotation_columns", verbose_name=_("project")
    )
    name = models.CharField(
        _("name"),
        max_length=100,
        help_text=_("The column header in exports, e.g. Characteristics [Genotype] or treatment."),
    )
    kind = models.CharField(_("kind"), max_length=10, choices=Kind.choices, default=Kind.TEXT)
    allowed_values = models.JSONField(
        _("allowed values"),
        default=list,
        blank=True,
        help_text=_("For “one of a list”: the values to choose from."),
    )
    unit = models.CharField(
        _("unit"), max_length=50, blank=True, help_text=_("For numbers, e.g. hours or µM.")
    )
    description = models.TextField(_("description"), blank=True)
    position = models.PositiveIntegerField(_("position"), default=0)

    class Meta:
        verbose_name = _("annotation column")
        verbose_name_plural = _("annotation columns")
        ordering = ["project", "position", "pk"]
        constraints = [
            models.UniqueConstraint(fields=["project", "name"], name="annotationcolumn_unique_name")
        ]

    def __str__(self) -> str:
        return self.name

    def clean_value(self, raw: str) -> str:
        """The value as stored, or ValidationError saying what this column accepts."""
        value = raw.strip()
        if not value:
            return ""
        if self.kind == self.Kind.NUMBER:
            try:
                float(value)
            except ValueError:
                raise ValidationError(_("“%(value)s” is not a number.") % {"value": value}) from None
        if self.kind == self.Kind.CHOICE and value not in self.allowed_values:
            allowed = ", ".join(self.allowed_values)
            raise ValidationError(
                _("“%(value)s” is not one of %(allowed)s.") % {"value": value, "allowed": allowed}
            )
        return value


class ShareLinkQuerySet(SecretKeyQuerySet["ShareLink"]):
    pass


class ShareLink(SecretKey, models.Model):
    """A time-limited, revocable address that shows one dataset's metadata and chosen files to
    someone without an account. Only the SHA-256 of its key is stored, so the database alone
    cannot open a link."""

    dataset = models.ForeignKey(
        Dataset, on_delete=models.CASCADE, related_name="share_links", verbose_name=_("dataset")
    )
    files = models.ManyToManyField(
        ImageFile,
        blank=True,
        related_name="+",
        verbose_name=_("shared files"),
        help_text=_("The only files the link lets people download; none shares the metadata alone."),
    )
    note = models.CharField(
        _("note"),
        max_length=300,
        blank=True,
        help_text=_("Who the link is for, e.g. Dr. Rossi, sample data."),
    )
    prefix = models.CharField(
        _("prefix"), max_length=8, help_text=_("First characters of the key, to recognise the link.")
    )
    key_hash = models.CharField(_("key hash"), max_length=64, unique=True, editable=False)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("created by"),
    )
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    expires_at = models.DateTimeField(_("expires at"))
    revoked_at = models.DateTimeField(_("revoked at"), null=True, blank=True)
    revoked_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("revoked by"),
    )

    objects = ShareLinkQuerySet.as_manager()

    class Meta:
        verbose_name = _("share link")
        verbose_name_plural = _("share links")
        ordering = ["-created_at", "-pk"]

    def __str__(self) -> str:
        return f"{self.dataset}: {self.note or self.prefix + '…'}"


class ShareAccess(models.Model):
    """One request made through a share link: the page, a download, or a refusal."""

    class What(models.TextChoices):
        PAGE = "page", _("Page")
        FILE = "file", _("Download")

    class Outcome(models.TextChoices):
        SERVED = "served", _("Served")
        EXPIRED = "expired", _("Refused: link expired")
        REVOKED = "revoked", _("Refused: link revoked")
        NOT_SHARED = "not_shared", _("Refused: file not shared")
        UNAVAILABLE = "unavailable", _("Refused: file not on storage")

    link = models.ForeignKey(
        ShareLink,
        on_delete=models.CASCADE,
        related_name="accesses",
        verbose_name=_("share link"),
        db_index=False,  # the (link, at) index below starts with it
    )
    at = models.DateTimeField(_("at"), default=timezone.now)
    ip = models.GenericIPAddressField(_("IP address"), null=True, blank=True)
    user_agent = models.CharField(_("browser"), max_length=500, blank=True)
    what = models.CharField(_("what"), max_length=4, choices=What.choices)
    outcome = models.CharField(_("outcome"), max_length=12, choices=Outcome.choices)
    file = models.ForeignKey(
        ImageFile,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("file"),
    )
    path = models.CharField(
        _("path"), max_length=1000, blank=True, help_text=_("The file's path, kept after a scan forgets it.")
    )
    bytes_sent = models.PositiveBigIntegerField(
        _("bytes sent"),
        default=0,
        help_text=_("Counted as the download streams; less than the size if cut off."),
    )

    class Meta:
        verbose_name = _("share link access")
        verbose_name_plural = _("share link accesses")
        ordering = ["-at", "-pk"]
        indexes = [
            # The dataset page lists a link's latest accesses.
            models.Index(fields=["link", "at"], name="shareaccess_link_at"),
        ]

    def __str__(self) -> str:
        return f"{self.link} {self.what} {self.outcome} at {self.at:%Y-%m-%d %H:%M}"
