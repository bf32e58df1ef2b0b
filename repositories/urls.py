from __future__ import annotations

from django.urls import path

from repositories import views

app_name = "repositories"

urlpatterns = [
    path("", views.submissions_index, name="index"),
    path("project/<int:pk>/", views.project_submissions, name="project_submissions"),
    path("project/<int:pk>/new/", views.submission_new, name="submission_new"),
    path("<int:pk>/", views.submission_detail, name="detail"),
    path("<int:pk>/check/", views.submission_check, name="check"),
    path("<int:pk>/build/", views.submission_build, name="build"),
    path("<int:pk>/state/", views.submission_transition, name="transition"),
    path("<int:pk>/release-date/", views.submission_release_date, name="release_date"),
    path("<int:pk>/accession/", views.submission_accession, name="accession"),
    path("<int:pk>/package.zip", views.package_download, name="package_download"),
]
