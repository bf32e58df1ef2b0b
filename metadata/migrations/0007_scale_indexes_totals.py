import datetime

import django.db.models.deletion
from django.db import migrations, models
from django.db.models import Count, Q, Sum

PREFIX_INDEX = "imagefile_path_prefix"


def create_prefix_index(apps, schema_editor):
    # LIKE 'prefix%' can use a plain b-tree index only under the C collation; this operator
    # class makes it use one under any collation. SQLite has no operator classes.
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(
            f"CREATE INDEX IF NOT EXISTS {PREFIX_INDEX} ON metadata_imagefile "
            "(dataset_id, relative_path varchar_pattern_ops)"
        )


def drop_prefix_index(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(f"DROP INDEX IF EXISTS {PREFIX_INDEX}")


def recount_totals(apps, schema_editor):
    """Scans now keep the totals by difference; start them from the rows as they are, since
    a scan interrupted under the previous version left rows its totals did not count."""
    Dataset = apps.get_model("metadata", "Dataset")
    ImageFile = apps.get_model("metadata", "ImageFile")
    for dataset in Dataset.objects.all():
        files = ImageFile.objects.filter(dataset=dataset).order_by()
        totals = files.aggregate(
            files=Sum("file_count"),
            bytes=Sum("size_bytes"),
            images=Count("pk", filter=Q(is_image=True)),
            errors=Count("pk", filter=~Q(error_code="")),
        )
        formats = {
            row["format"]: {"count": row["count"], "bytes": row["bytes"]}
            for row in files.values("format").annotate(count=Count("pk"), bytes=Sum("size_bytes")).order_by("format")
        }
        months = {}
        for mtime, size in files.values_list("mtime", "size_bytes").iterator(chunk_size=10_000):
            month = datetime.datetime.fromtimestamp(mtime, datetime.UTC).strftime("%Y-%m")
            months[month] = months.get(month, 0) + size
        Dataset.objects.filter(pk=dataset.pk).update(
            file_count=totals["files"] or 0,
            total_bytes=totals["bytes"] or 0,
            image_count=totals["images"],
            error_count=totals["errors"],
            format_summary=formats,
            monthly_bytes={month: size for month, size in sorted(months.items()) if size},
        )


class Migration(migrations.Migration):

    dependencies = [
        ('metadata', '0006_annotations'),
    ]

    operations = [
        migrations.AlterField(
            model_name='imagefile',
            name='dataset',
            field=models.ForeignKey(db_index=False, on_delete=django.db.models.deletion.CASCADE, related_name='files', to='metadata.dataset', verbose_name='dataset'),
        ),
        migrations.RemoveIndex(
            model_name='imagefile',
            name='imagefile_format',
        ),
        migrations.RemoveIndex(
            model_name='imagefile',
            name='imagefile_instrument',
        ),
        migrations.RemoveIndex(
            model_name='imagefile',
            name='imagefile_errors',
        ),
        migrations.AddIndex(
            model_name='imagefile',
            index=models.Index(fields=['dataset', 'format', 'relative_path'], name='imagefile_format_path'),
        ),
        migrations.AddIndex(
            model_name='imagefile',
            index=models.Index(fields=['dataset', 'instrument', 'relative_path'], name='imagefile_instrument_path'),
        ),
        migrations.AddIndex(
            model_name='imagefile',
            index=models.Index(condition=models.Q(('error_code', ''), _negated=True), fields=['dataset', 'relative_path'], name='imagefile_errors_path'),
        ),
        migrations.AddIndex(
            model_name='imagefile',
            index=models.Index(fields=['dataset', 'size_bytes'], name='imagefile_size'),
        ),
        migrations.AddIndex(
            model_name='imagefile',
            index=models.Index(fields=['dataset', 'acquired_at'], name='imagefile_acquired'),
        ),
        migrations.AddIndex(
            model_name='imagefile',
            index=models.Index(condition=models.Q(('error_code', ''), ('is_image', True), ('preview_at__isnull', True)), fields=['dataset', 'id'], name='imagefile_needs_preview'),
        ),
        migrations.RunPython(create_prefix_index, drop_prefix_index, elidable=False),
        migrations.RunPython(recount_totals, migrations.RunPython.noop),
    ]
