from __future__ import annotations

from django.urls import path

from metadata import share_views, views

app_name = "metadata"

urlpatterns = [
    path("", views.datasets_index, name="index"),
    path("usage/", views.storage_usage, name="storage_usage"),
    path("instruments/", views.instrument_list, name="instrument_list"),
    path("instruments/<int:facility_pk>/new/", views.instrument_edit, name="instrument_create"),
    path("instruments/<int:facility_pk>/<int:pk>/", views.instrument_edit, name="instrument_edit"),
    path("instruments/<int:facility_pk>/import/", views.instrument_import, name="instrument_import"),
    path("project/<int:pk>/", views.project_datasets, name="project_datasets"),
    path("project/<int:pk>/register/", views.dataset_register, name="dataset_register"),
    path("project/<int:pk>/upload/", views.dataset_upload, name="dataset_upload"),
    path("<int:pk>/", views.dataset_detail, name="dataset_detail"),
    path("<int:pk>/scan/", views.dataset_scan, name="dataset_scan"),
    path("<int:pk>/describe/", views.dataset_describe, name="dataset_describe"),
    path("<int:pk>/annotations/", views.dataset_annotations, name="dataset_annotations"),
    path("<int:pk>/annotations.csv", views.annotations_csv, name="annotations_csv"),
    path("<int:pk>/describe/<str:class_name>/", views.rembi_edit, name="rembi_edit"),
    path("<int:pk>/describe/<str:class_name>/use/", views.rembi_link, name="rembi_link"),
    path("<int:pk>/rembi.<str:fmt>", views.rembi_export, name="rembi_export"),
    path("<int:pk>/files/<int:file_pk>/", views.file_detail, name="file_detail"),
    path("<int:pk>/files/<int:file_pk>/ome.xml", views.file_ome_xml, name="file_ome_xml"),
    path("<int:pk>/files/<int:file_pk>/instrument/", views.instrument_from_file, name="instrument_from_file"),
    path("<int:pk>/files/<int:file_pk>/preview.png", views.file_preview, name="file_preview"),
    path("<int:pk>/sharing/", share_views.dataset_sharing, name="dataset_sharing"),
    path("<int:pk>/sharing/<int:link_pk>/revoke/", share_views.share_link_revoke, name="share_revoke"),
]

# Mounted at /share/ under the namespace "share" (fairlight/urls.py): no login, the key is the credential.
share_urlpatterns = [
    path("<str:token>/", share_views.share_page, name="page"),
    path("<str:token>/files/<int:file_pk>/", share_views.share_file, name="file"),
]
