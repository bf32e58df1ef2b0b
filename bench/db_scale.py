"""Database scale: one dataset of 1,000,000 file rows on PostgreSQL, then the file list and the
dataset summary as the API serves them.

Creates its own database (fairlight_bench on BENCH_POSTGRES_URL's server, default
postgres://postgres@127.0.0.1:5432), migrates it, loads N synthetic ImageFile rows with COPY
(100 plates x 100 wells x 100 fields; 70% OME-TIFF, 1% with errors, 8 instruments), analyses
the table, then times each request through Django's test client against the real views, logged
in as a project member: filtered and paginated file lists (by format, errors, instrument, path
prefix, a later cursor page) and the dataset summary. Prints p50 and p95 of 20 runs each.
The database is dropped at the end.
Target: p95 under 200 ms for every file-list request and for the summary.

    uv run python bench/db_scale.py [--rows 1000000] [--runs 20]
"""

from __future__ import annotations

import argparse
import hashlib
import io
import math
import random
import shutil
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from _common import django_on, p50_p95, postgres_scratch, timed

TARGET_MS = 200.0
FORMATS = [("ome-tiff", 70), ("tiff", 20), ("png", 6), ("czi", 2), ("nd2", 2)]
INSTRUMENTS = [f"Zeiss LSM 980 #{n}" for n in range(4)] + [f"Nikon Ti2 #{n}" for n in range(4)]


def plate_count(rows: int) -> int:
    """Plates, and wells a plate and fields a well: the cube root of the rows."""
    return max(1, round(math.cbrt(rows)))


def synthetic_rows(dataset_id: int, count: int) -> Iterator[str]:
    """Tab-separated COPY lines, in the column order of copy_rows()."""
    rng = random.Random(0)  # noqa: S311 - repeatable data, not a secret
    formats = [fmt for fmt, weight in FORMATS for _ in range(weight)]
    plates = plate_count(count)
    for index in range(count):
        plate, rest = divmod(index, plates * plates)
        well, field = divmod(rest, plates)
        fmt = formats[index % len(formats)]
        error = index % 100 == 37
        yield "\t".join(
            (
                str(dataset_id),
                f"plate_{plate:03d}/well_{well:03d}/field_{field:04d}.{fmt}",
                str(rng.randrange(100_000, 50_000_000)),
                str(1.7e9 + index),
                "1",
                fmt,
                "f" if error else "t",
                "bench",
                hashlib.sha256(index.to_bytes(8, "little")).hexdigest(),
                "",
                "{}",
                INSTRUMENTS[index % len(INSTRUMENTS)] if not error else "",
                "",
                "",
                "corrupt" if error else "",
                "The file is damaged." if error else "",
                "2026-01-01 00:00:00+00",
                "{}",
            )
        )


def copy_rows(dataset_id: int, count: int, batch: int = 100_000) -> None:
    from django.db import connection

    columns = (
        "dataset_id, relative_path, size_bytes, mtime, file_count, format, is_image, reader, sha256, md5, "
        "metadata, instrument, objective, preview_error, error_code, error, scanned_at, annotations"
    )
    rows = synthetic_rows(dataset_id, count)
    with connection.cursor() as cursor:
        raw: Any = cursor.cursor  # psycopg's own cursor, for COPY
        done = 0
        while done < count:
            buffer = io.StringIO()
            for _ in range(min(batch, count - done)):
                buffer.write(next(rows) + "\n")
                done += 1
            with raw.copy(f"COPY metadata_imagefile ({columns}) FROM STDIN") as copy:
                copy.write(buffer.getvalue())
        cursor.execute("ANALYZE metadata_imagefile")


def fill_totals(dataset_id: int) -> None:
    """The totals a scan would have kept, so the summary has something real to show."""
    from django.db.models import Count, Q, Sum

    from metadata.models import Dataset, ImageFile

    files = ImageFile.objects.filter(dataset_id=dataset_id).order_by()
    totals = files.aggregate(
        files=Sum("file_count"),
        size=Sum("size_bytes"),
        images=Count("pk", filter=Q(is_image=True)),
        errors=Count("pk", filter=~Q(error_code="")),
    )
    formats = {
        row["format"]: {"count": row["n"], "bytes": row["size"]}
        for row in files.values("format").annotate(n=Count("pk"), size=Sum("size_bytes"))
    }
    Dataset.objects.filter(pk=dataset_id).update(
        status=Dataset.Status.SCANNED,
        file_count=totals["files"],
        total_bytes=totals["size"],
        image_count=totals["images"],
        error_count=totals["errors"],
        format_summary=formats,
        instruments=INSTRUMENTS,
    )


def measure(client: Any, url: str, runs: int) -> tuple[float, float, Any]:
    for _ in range(2):
        response = client.get(url)
        if response.status_code != 200:
            raise RuntimeError(f"{url} answered {response.status_code}: {response.content[:300]!r}")
    samples = []
    for _ in range(runs):
        start = time.perf_counter()
        response = client.get(url)
        samples.append((time.perf_counter() - start) * 1000)
    p50, p95 = p50_p95(samples)
    is_json = response.headers.get("Content-Type", "").startswith("application/json")
    return p50, p95, response.json() if is_json else response.content.decode()


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--runs", type=int, default=20)
    args = parser.parse_args()
    storage = Path(tempfile.mkdtemp(prefix="fairlight-bench-storage-"))
    (storage / "plates").mkdir()
    scratch: Path | None = None
    try:
        with postgres_scratch("fairlight_bench") as database_url:
            scratch = django_on(database_url, storage)
            from django.test import Client

            from accounts.models import User
            from metadata.models import Dataset
            from projects.models import Facility, Membership, Project, Role, StorageRoot

            print(f"database scale benchmark: {args.rows:,} file rows in one dataset on PostgreSQL")
            facility = Facility.objects.create(name="Bench")
            root = StorageRoot.objects.create(facility=facility, name="bench", path=str(storage))
            project = Project.objects.create(title="Bench", facility=facility)
            user = User.objects.create_user(username="bench")  # force_login below: no password
            Membership.objects.create(project=project, user=user, role=Role.VIEWER)
            dataset = Dataset.objects.create(
                project=project, title="Plates", storage_root=root, relative_path="plates"
            )
            timed(
                f"COPY {args.rows:,} rows (with every index) + ANALYZE",
                lambda: copy_rows(dataset.pk, args.rows),
            )
            timed("dataset totals for the summary", lambda: fill_totals(dataset.pk))
            client = Client()
            client.force_login(user)
            files = f"/api/v1/datasets/{dataset.pk}/files/"
            plates = plate_count(args.rows)
            late, middle = f"plate_{plates * 8 // 10:03d}/", f"plate_{plates * 42 // 100:03d}/"
            _, _, deep = measure(client, f"{files}?path_prefix={late}&page_size=100", 1)
            requests = {
                "file list, format filter, 100 a page": f"{files}?file_format=tiff&page_size=100",
                "file list, errors only": f"{files}?errors=1&page_size=100",
                "file list, one instrument": f"{files}?instrument=Nikon%20Ti2%20%233&page_size=100",
                "file list, path prefix + format": f"{files}?path_prefix={middle}&file_format=ome-tiff",
                "file list, a later cursor page": deep["next"],
                "dataset summary": f"/api/v1/datasets/{dataset.pk}/",
            }
            worst = 0.0
            for label, url in requests.items():
                p50, p95, body = measure(client, url, args.runs)
                shown = body.get("results", [body])
                if not shown:
                    raise RuntimeError(f"{label}: the request returned nothing")
                worst = max(worst, p95)
                print(f"  {label:<40} p50 {p50:7.1f} ms   p95 {p95:7.1f} ms", flush=True)
            # For comparison, outside the target: what no index can serve, and the web page.
            for label, url in {
                "(file list, substring search: no index)": f"{files}?path_contains=well_050/field_0042",
                "(dataset web page, first 100 files)": f"/datasets/{dataset.pk}/",
            }.items():
                p50, p95, _ = measure(client, url, args.runs)
                print(f"  {label:<40} p50 {p50:7.1f} ms   p95 {p95:7.1f} ms", flush=True)
            print(
                f"  ratio slowest p95 / target: {worst / TARGET_MS:5.2f}x of {TARGET_MS:.0f} ms   "
                f"(target p95 < {TARGET_MS:.0f} ms, ratio < 1)"
            )
    finally:
        shutil.rmtree(storage, ignore_errors=True)
        if scratch is not None:
            shutil.rmtree(scratch, ignore_errors=True)


if __name__ == "__main__":
    main()
