from __future__ import annotations

import json
import re

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.db.models import Q
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.template.defaultfilters import filesizeformat
from django.utils.http import content_disposition_header
from django.utils.safestring import mark_safe
from django.utils.text import slugify
from django.views.decorators.csrf import csrf_exempt, csrf_protect
from django.views.decorators.http import require_POST

from accounts.requests import authenticated_user
from metadata import annotations as image_annotations
from metadata import export, rembi, selectors, services, uploads, usage
from metadata.advice import advise
from metadata.forms import (
    AnnotationColumnForm,
    AnnotationCsvForm,
    DatasetRegisterForm,
    DatasetUploadForm,
    FileFilterForm,
)
from metadata.instrument_forms import InstrumentForm, OmeXmlImportForm, part_formsets
from metadata.instruments import instruments_import
from metadata.models import REMBI_CLASS_CHOICES, AnnotationColumn, Dataset, Instrument, RembiRecord
from metadata.prefill import prefill_for
from metadata.rembi_forms import form_class_for
from metadata.schema.model import RECORD_CLASSES
from metadata.validation import Level, validate_record
from projects import access

FILES_PER_PAGE = 100
_JSON_SCRIPT_ESCAPES = {ord(">"): "\\u003E", ord("<"): "\\u003C", ord("&"): "\\u0026"}
SORTS = {"path": "relative_path", "-path": "-relative_path", "size": "size_bytes", "-size": "-size_bytes"}


def _dataset_for_user(
    request: HttpRequest, pk: int, *, needs: str = access.VIEW
) -> tuple[Dataset, access.ProjectAccess]:
    dataset = Dataset.objects.select_related("project", "storage_root").filter(pk=pk).first()
    if dataset is None:
        raise Http404("No such dataset.")
    return dataset, access.project_for_user(request.user, dataset.project_id, needs=needs)


@login_required
def datasets_index(request: HttpRequest) -> HttpResponse:
    datasets = selectors.datasets_visible_to(request.user).order_by("project__title", "title")
    return render(request, "metadata/datasets_index.html", {"datasets": datasets})


@login_required
def storage_usage(request: HttpRequest) -> HttpResponse:
    return render(
        request,
        "metadata/storage_usage.html",
        {
            "roots": usage.usage_by_root(request.user),
            "teams": usage.usage_by_team(request.user),
            "projects": usage.usage_by_project(request.user),
        },
    )


@login_required
def project_datasets(request: HttpRequest, pk: int) -> HttpResponse:
    project_access = access.project_for_user(request.user, pk)
    project = project_access.project
    return render(
        request,
        "metadata/project_datasets.html",
        {
            "project": project,
            "access": project_access,
            "datasets": Dataset.objects.filter(project=project).select_related("storage_root"),
        },
    )


@login_required
def dataset_register(request: HttpRequest, pk: int) -> HttpResponse:
    project_access = access.project_for_user(request.user, pk, needs=access.EDIT)
    project = project_access.project
    form = DatasetRegisterForm(request.POST or None, project=project)
    if request.method == "POST" and form.is_valid():
        try:
            dataset = services.dataset_register(
                project=project, user=authenticated_user(request), **form.cleaned_data
            )
        except ValidationError as exc:
            for field, errors in exc.message_dict.items():
                form.add_error(field if field in form.fields else None, errors)
        else:
            services.scan_start(dataset=dataset, user=authenticated_user(request))
            messages.success(request, f"Dataset “{dataset}” registered; its scan has started.")
            return redirect(dataset)
    return render(
        request,
        "metadata/dataset_register.html",
        {"project": project, "form": form},
        status=400 if form.errors else 200,
    )


@login_required
@csrf_exempt  # the upload handler must be set before CSRF reads the body; csrf_protect below checks it
def dataset_upload(request: HttpRequest, pk: int) -> HttpResponse:
    project_access = access.project_for_user(request.user, pk, needs=access.EDIT)
    if request.method == "POST":
        request.upload_handlers = [
            uploads.SizeLimitUploadHandler(request, settings.FAIRLIGHT_UPLOAD_MAX_BYTES)
        ]
    return _dataset_upload(request, project_access)


@csrf_protect
def _dataset_upload(request: HttpRequest, project_access: access.ProjectAccess) -> HttpResponse:
    project = project_access.project
    form = DatasetUploadForm(request.POST or None, request.FILES or None)
    if getattr(request, "upload_too_large", False):
        limit = filesizeformat(settings.FAIRLIGHT_UPLOAD_MAX_BYTES)
        message = f"The files are larger than the upload limit of {limit}; nothing was stored."
        form.add_error("images", message)
    elif request.method == "POST" and form.is_valid():
        data = dict(form.cleaned_data)
        files = data.pop("images")
        try:
            dataset = uploads.dataset_upload(
                project=project, user=authenticated_user(request), files=files, **data
            )
        except ValidationError as exc:
            form.add_error(None, exc)
        else:
            messages.success(request, f"{len(files)} files uploaded as “{dataset}”; the scan has started.")
            return redirect(dataset)
    return render(
        request,
        "metadata/dataset_upload.html",
        {
            "project": project,
            "form": form,
            "upload_root": uploads.upload_root(),
            "limit": settings.FAIRLIGHT_UPLOAD_MAX_BYTES,
        },
        status=400 if form.errors else 200,
    )


@login_required
def dataset_detail(request: HttpRequest, pk: int) -> HttpResponse:
    dataset, project_access = _dataset_for_user(request, pk)
    filters = FileFilterForm(request.GET or None)
    filters.is_valid()
    cleaned = filters.cleaned_data if filters.is_bound else {}
    sort = request.GET.get("sort", "path")
    files = selectors.dataset_files(
        dataset=dataset,
        format=cleaned.get("format", ""),
        errors_only=cleaned.get("with_errors", False),
        search=cleaned.get("q", ""),
    ).order_by(SORTS.get(sort, "relative_path"))
    page = Paginator(files, FILES_PER_PAGE).get_page(request.GET.get("page"))
    run = selectors.latest_scan(dataset)
    context = {
        "dataset": dataset,
        "project": dataset.project,
        "access": project_access,
        "run": run,
        "progress": selectors.scan_progress(run) if run else None,
        "page": page,
        "gallery": selectors.dataset_gallery(dataset),
        "filters": filters,
        "sort": sort,
        "format_rows": advise(dataset.format_summary),
        "query": request.GET.copy(),
    }
    # Embedded as <script type="application/ld+json"> for search engines; escaped like json_script.
    context["schema_org"] = mark_safe(  # noqa: S308 - JSON with <, > and & escaped as unicode
        json.dumps(export.schema_org_dataset(dataset), ensure_ascii=False).translate(_JSON_SCRIPT_ESCAPES)
    )
    template = "metadata/dataset_detail.html"
    if request.headers.get("HX-Request") and request.headers.get("HX-Target") == "scan-progress":
        template += "#progress"
    return render(request, template, context)


@login_required
@require_POST
def dataset_scan(request: HttpRequest, pk: int) -> HttpResponse:
    dataset, _ = _dataset_for_user(request, pk, needs=access.EDIT)
    services.scan_start(dataset=dataset, user=authenticated_user(request))
    messages.success(request, "The scan has started; unchanged files are not read again.")
    return redirect(dataset)


@login_required
def file_detail(request: HttpRequest, pk: int, file_pk: int) -> HttpResponse:
    dataset, _ = _dataset_for_user(request, pk)
    image_file = get_object_or_404(dataset.files, pk=file_pk)
    return render(
        request,
        "metadata/file_detail.html",
        {
            "dataset": dataset,
            "project": dataset.project,
            "file": image_file,
            "meta": image_file.metadata,
            "can_register_instrument": dataset.project.facility_id is not None
            and access.facilities_stewarded(request.user).filter(pk=dataset.project.facility_id).exists(),
        },
    )


@login_required
def file_preview(request: HttpRequest, pk: int, file_pk: int) -> HttpResponse:
    dataset, _ = _dataset_for_user(request, pk)
    image_file = get_object_or_404(dataset.files.only("preview_png", "preview_at"), pk=file_pk)
    if not image_file.preview_png:
        raise Http404("This file has no preview.")
    response = HttpResponse(bytes(image_file.preview_png), content_type="image/png")
    response["Cache-Control"] = "private, max-age=3600"
    return response


@login_required
def file_ome_xml(request: HttpRequest, pk: int, file_pk: int) -> HttpResponse:
    dataset, _ = _dataset_for_user(request, pk)
    image_file = get_object_or_404(dataset.files, pk=file_pk)
    xml = image_file.ome_xml
    if xml is None:
        raise Http404("This file has no OME-XML.")
    response = HttpResponse(xml, content_type="application/xml; charset=utf-8")
    name = image_file.relative_path.rsplit("/", 1)[-1] + ".ome.xml"
    response["Content-Disposition"] = content_disposition_header(as_attachment=True, filename=name)
    return response


@login_required
def dataset_describe(request: HttpRequest, pk: int) -> HttpResponse:
    dataset, project_access = _dataset_for_user(request, pk)
    reports = rembi.dataset_report(dataset)
    return render(
        request,
        "metadata/dataset_describe.html",
        {
            "dataset": dataset,
            "project": dataset.project,
            "access": project_access,
            "reports": reports,
            "ready": not any(report.errors for report in reports),
        },
    )


@login_required
def rembi_edit(request: HttpRequest, pk: int, class_name: str) -> HttpResponse:
    if class_name not in RECORD_CLASSES:
        raise Http404("No such REMBI module.")
    dataset, project_access = _dataset_for_user(request, pk)
    instance = rembi.record_for(dataset, class_name)
    prefill = prefill_for(class_name, dataset=dataset)
    form_class = form_class_for(class_name)
    record = instance.data if instance else prefill.values
    stale: rembi.StaleEdit | None = None
    if request.method == "POST":
        access.require_role(request.user, dataset.project, access.EDIT)
        form = form_class(request.POST, record=record)
        if form.is_valid():
            version = int(request.POST.get("version") or 0) or None
            try:
                saved = rembi.record_save(
                    dataset=dataset,
                    class_name=class_name,
                    record=form.to_record(),
                    user=authenticated_user(request),
                    instance=instance,
                    version=version,
                    prefill=prefill,
                )
            except rembi.StaleEdit as exc:
                stale = exc
            except ValidationError as exc:
                for field, errors in exc.message_dict.items():
                    form.add_error(field if field in form.fields else None, errors)
            else:
                problems = [p for p in validate_record(saved.data, class_name) if p.level == Level.ERROR]
                note = f"; {len(problems)} problem(s) left before publishing" if problems else ", complete"
                messages.success(request, f"{saved} saved{note}.")
                return redirect("metadata:dataset_describe", pk=dataset.pk)
    else:
        form = form_class(record=record)
    return render(
        request,
        "metadata/rembi_edit.html",
        {
            "dataset": dataset,
            "project": dataset.project,
            "access": project_access,
            "class_name": class_name,
            "label": dict(REMBI_CLASS_CHOICES)[class_name],
            "form": form,
            "instance": instance,
            "sources": instance.prefilled if instance else prefill.sources,
            "problems": validate_record(instance.data, class_name) if instance else [],
            "reusable": rembi.reusable_records(dataset, class_name),
            "stale": stale,
        },
        status=409 if stale else (400 if form.has_errors else 200),
    )


@login_required
@require_POST
def rembi_link(request: HttpRequest, pk: int, class_name: str) -> HttpResponse:
    dataset, _ = _dataset_for_user(request, pk, needs=access.EDIT)
    record = get_object_or_404(
        RembiRecord, pk=request.POST.get("record"), project=dataset.project, class_name=class_name
    )
    rembi.record_link(dataset=dataset, record=record)
    messages.success(request, f"This dataset now uses {record}.")
    return redirect("metadata:dataset_describe", pk=dataset.pk)


@login_required
def rembi_export(request: HttpRequest, pk: int, fmt: str) -> HttpResponse:
    dataset, _ = _dataset_for_user(request, pk)
    if fmt == "jsonld":
        body, content_type, suffix = (
            json.dumps(export.dataset_jsonld(dataset), indent=2),
            "application/ld+json",
            "jsonld",
        )
    elif fmt == "ttl":
        body, content_type, suffix = export.dataset_turtle(dataset), "text/turtle; charset=utf-8", "ttl"
    else:
        raise Http404("Unknown export format.")
    response = HttpResponse(body, content_type=content_type)
    filename = f"{slugify(dataset.title) or 'dataset'}-rembi.{suffix}"
    response["Content-Disposition"] = content_disposition_header(as_attachment=True, filename=filename)
    return response


@login_required
def instrument_list(request: HttpRequest) -> HttpResponse:
    stewarded = access.facilities_stewarded(request.user)
    visible = Instrument.objects.filter(
        Q(facility__in=stewarded) | Q(facility__projects__in=access.visible_projects(request.user))
    ).distinct()
    return render(
        request,
        "metadata/instrument_list.html",
        {
            "instruments": visible.select_related("facility").order_by("facility__name", "name"),
            "stewarded": stewarded,
            "import_form": OmeXmlImportForm(),
        },
    )


@login_required
def instrument_edit(request: HttpRequest, facility_pk: int, pk: int | None = None) -> HttpResponse:
    facility = access.facility_for_steward(request.user, facility_pk)
    instrument = (
        get_object_or_404(Instrument, pk=pk, facility=facility) if pk else Instrument(facility=facility)
    )
    form = InstrumentForm(request.POST or None, instance=instrument)
    parts = part_formsets(instrument, request.POST or None)
    if request.method == "POST" and form.is_valid() and all(formset.is_valid() for _, _, formset in parts):
        instrument = form.save(commit=False)
        for field, _, formset in parts:
            entries = [
                part.to_entry()
                for part in formset.forms
                if part.has_changed() and not part.cleaned_data.get("DELETE")
            ]
            setattr(instrument, field, [entry for entry in entries if entry])
        instrument.save()
        messages.success(request, f"Instrument “{instrument}” saved.")
        return redirect("metadata:instrument_list")
    return render(
        request,
        "metadata/instrument_form.html",
        {"facility": facility, "instrument": instrument, "form": form, "parts": parts},
        status=400 if request.method == "POST" else 200,
    )


@login_required
@require_POST
def instrument_import(request: HttpRequest, facility_pk: int) -> HttpResponse:
    facility = access.facility_for_steward(request.user, facility_pk)
    form = OmeXmlImportForm(request.POST, request.FILES)
    if not form.is_valid():
        messages.error(request, "Choose an OME-XML file to import.")
        return redirect("metadata:instrument_list")
    try:
        xml = form.cleaned_data["ome_xml"].read().decode("utf-8")
        imported = instruments_import(facility=facility, xml=xml)
    except UnicodeDecodeError:
        messages.error(request, "The file is not UTF-8 text, so it cannot be OME-XML. Nothing was imported.")
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages) + " Nothing was imported.")
    else:
        messages.success(request, f"Imported {', '.join(str(i) for i in imported)} into {facility}.")
    return redirect("metadata:instrument_list")


@login_required
@require_POST
def instrument_from_file(request: HttpRequest, pk: int, file_pk: int) -> HttpResponse:
    dataset, _ = _dataset_for_user(request, pk)
    facility = access.facility_for_steward(request.user, dataset.project.facility_id or 0)
    image_file = get_object_or_404(dataset.files, pk=file_pk)
    xml = image_file.ome_xml
    if xml is None:
        raise Http404("This file has no OME-XML.")
    try:
        imported = instruments_import(facility=facility, xml=xml)
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    else:
        messages.success(
            request, f"Added {', '.join(str(i) for i in imported)} to the instruments of {facility}."
        )
    return redirect("metadata:file_detail", pk=dataset.pk, file_pk=image_file.pk)


ANNOTATIONS_PER_PAGE = 50
_CELL = re.compile(r"^cell-(\d+)-(\d+)$")


@login_required
def dataset_annotations(request: HttpRequest, pk: int) -> HttpResponse:
    dataset, project_access = _dataset_for_user(request, pk)
    columns = image_annotations.columns_of(dataset)
    files = (
        dataset.files.filter(is_image=True)
        .only("pk", "relative_path", "annotations")
        .order_by("relative_path")
    )
    page = Paginator(files, ANNOTATIONS_PER_PAGE).get_page(request.GET.get("page"))
    errors = image_annotations.CellErrors()
    column_form = AnnotationColumnForm(prefix="column")
    if request.method == "POST":
        access.require_role(request.user, dataset.project, access.EDIT)
        action = request.POST.get("action")
        if action == "column":
            column_form = AnnotationColumnForm(request.POST, prefix="column")
            if column_form.is_valid():
                try:
                    image_annotations.column_create(dataset=dataset, **column_form.cleaned_data)
                except ValidationError as exc:
                    for field, messages_ in exc.message_dict.items():
                        column_form.add_error(field if field in column_form.fields else None, messages_)
                else:
                    messages.success(request, f"Column “{column_form.cleaned_data['name']}” added.")
                    return redirect(request.get_full_path())
        elif action == "bulk":
            column = get_object_or_404(
                AnnotationColumn, pk=request.POST.get("column"), project=dataset.project
            )
            chosen = [int(v) for v in request.POST.getlist("selected") if v.isdigit()]
            try:
                count = image_annotations.annotations_set(
                    dataset=dataset, column=column, value=request.POST.get("value", ""), file_ids=chosen
                )
            except ValidationError as exc:
                messages.error(request, f"{column}: {' '.join(exc.messages)} Nothing was changed.")
            else:
                messages.success(request, f"{column} set on {count} image(s).")
                return redirect(request.get_full_path())
        else:
            cells = {
                (int(match.group(1)), int(match.group(2))): request.POST.get(key, "")
                for key in request.POST
                if (match := _CELL.match(key))
            }
            count, errors = image_annotations.annotations_save_cells(dataset=dataset, cells=cells)
            if not errors.errors:
                messages.success(request, f"Saved annotations of {count} image(s).")
                return redirect(request.get_full_path())
            messages.error(
                request,
                f"{len(errors.errors)} value(s) are not valid; nothing was saved. See the marked cells.",
            )
    rows = [
        (
            image_file,
            [
                (
                    column,
                    request.POST.get(f"cell-{image_file.pk}-{column.pk}")
                    if errors.errors
                    else image_file.annotations.get(str(column.pk), ""),
                    errors.errors.get((image_file.pk, column.pk)),
                )
                for column in columns
            ],
        )
        for image_file in page
    ]
    return render(
        request,
        "metadata/dataset_annotations.html",
        {
            "dataset": dataset,
            "project": dataset.project,
            "access": project_access,
            "columns": columns,
            "rows": rows,
            "page": page,
            "column_form": column_form,
            "csv_form": AnnotationCsvForm(),
        },
        status=400 if errors.errors or column_form.errors else 200,
    )


@login_required
def annotations_csv(request: HttpRequest, pk: int) -> HttpResponse:
    dataset, _ = _dataset_for_user(request, pk)
    if request.method == "POST":
        access.require_role(request.user, dataset.project, access.EDIT)
        form = AnnotationCsvForm(request.POST, request.FILES)
        if not form.is_valid():
            messages.error(request, "Choose a CSV file to import.")
            return redirect("metadata:dataset_annotations", pk=dataset.pk)
        try:
            text = form.cleaned_data["csv_file"].read().decode("utf-8-sig")
        except UnicodeDecodeError:
            messages.error(
                request,
                "The file is not UTF-8 text; save the spreadsheet as “CSV UTF-8”. Nothing was changed.",
            )
            return redirect("metadata:dataset_annotations", pk=dataset.pk)
        report = image_annotations.annotations_csv_import(dataset=dataset, text=text)
        if report.errors:
            for error in report.errors[:20]:
                messages.error(request, error)
            if len(report.errors) > 20:
                messages.error(request, f"… and {len(report.errors) - 20} more problems.")
            messages.error(request, "Nothing was changed; fix the file and import it again.")
        else:
            messages.success(request, f"Imported annotations for {report.updated} image(s).")
        return redirect("metadata:dataset_annotations", pk=dataset.pk)
    response = HttpResponse(
        image_annotations.annotations_csv_export(dataset), content_type="text/csv; charset=utf-8"
    )
    filename = f"{slugify(dataset.title) or 'dataset'}-annotations.csv"
    response["Content-Disposition"] = content_disposition_header(as_attachment=True, filename=filename)
    return response
