from __future__ import annotations

from django.urls import path

from repositories import oversight_views, views

app_name = "repositories"

urlpatterns = [
    path("", views.submissions_index, name="index"),
    path("project/<int:pk>/", views.project_submissions, name="project_submissions"),
    path("project/<int:pk>/new/", views.submission_new, name="submission_new"),
    path("<int:pk>/", views.submission_detail, name="detail"),
    path("<int:pk>/check/", views.submission_check, name="check"),
    path("<int:pk>/build/", views.submission_build, name="build"),
    path("<int:pk>/deposit/", views.submission_deposit, name="deposit"),
    path("<int:pk>/state/", views.submission_transition, name="transition"),
    path("<int:pk>/release-date/", views.submission_release_date, name="release_date"),
    path("<int:pk>/accession/", views.submission_accession, name="accession"),
    path("<int:pk>/package.zip", views.package_download, name="package_download"),
    path("<int:pk>/embargo/", views.submission_embargo, name="embargo"),
    path("<int:pk>/release-update/", views.submission_release_update, name="release_update"),
    path("<int:pk>/publication-doi/", views.submission_publication_doi, name="publication_doi"),
]

# Mounted at /embargoes/ under the namespace "embargoes" (fairlight/urls.py).
embargo_urlpatterns = [
    path("", views.embargo_dashboard, name="dashboard"),
    path("project/<int:pk>/", views.embargo_project, name="project"),
    path("facility/<int:pk>/", views.embargo_facility, name="facility"),
    path("calendar/", views.calendar_token_create, name="calendar_create"),
    path("calendar/revoke/", views.calendar_token_revoke, name="calendar_revoke"),
    path("calendar/<str:token>.ics", views.calendar_feed, name="calendar_feed"),
]

# Mounted at /facilities/ under the namespace "facilities" (fairlight/urls.py): stewards' dashboards.
facility_urlpatterns = [
    path("", oversight_views.facility_index, name="index"),
    path("<int:pk>/", oversight_views.facility_dashboard, name="dashboard"),
]
