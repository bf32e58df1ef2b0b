from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView
from rest_framework.routers import DefaultRouter

from dmp import api as dmp_api
from dmp import journey_views
from metadata import api as metadata_api
from metadata.urls import share_urlpatterns
from projects import api as projects_api
from projects import views as projects_views
from repositories import api as repositories_api
from repositories import oversight_views
from repositories.urls import embargo_urlpatterns, facility_urlpatterns
from vocabularies import api as vocabularies_api


class NumericIdRouter(DefaultRouter):
    """Object ids are whole numbers: anything else in their place matches no route (a JSON 404)
    instead of reaching a database lookup that cannot take it. A viewset's own
    ``lookup_value_regex`` still wins."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        # DRF's default for viewsets without lookup_value_regex ("[^/.]+"); no public setting.
        self._default_value_pattern = "[0-9]+"


router = NumericIdRouter()
router.register("projects", projects_api.ProjectViewSet, basename="project")
router.register("teams", projects_api.TeamViewSet, basename="team")
router.register("datasets", metadata_api.DatasetViewSet, basename="dataset")
router.register("terms", vocabularies_api.TermViewSet, basename="term")
router.register("plans", dmp_api.PlanViewSet, basename="plan")
router.register("submissions", repositories_api.SubmissionViewSet, basename="submission")

membership_list = projects_api.MembershipViewSet.as_view({"get": "list", "post": "create"})
membership_detail = projects_api.MembershipViewSet.as_view(
    {"get": "retrieve", "put": "update", "patch": "partial_update", "delete": "destroy"}
)

api_v1 = [
    *router.urls,
    path("projects/<int:project_pk>/memberships/", membership_list, name="membership-list"),
    path("projects/<int:project_pk>/memberships/<int:pk>/", membership_detail, name="membership-detail"),
    path("projects/<int:pk>/audit/", projects_api.ProjectAuditLogView.as_view(), name="project-audit"),
    # Under the project's address, built in dmp: projects may not import the apps above it.
    path("projects/<int:pk>/journey/", journey_views.ProjectJourneyView.as_view(), name="project-journey"),
    path(
        "facilities/<int:pk>/dashboard/",
        oversight_views.FacilityDashboardView.as_view(),
        name="facility-dashboard",
    ),
]

handler404 = "fairlight.views.page_not_found"

urlpatterns = [
    path("", projects_views.dashboard, name="dashboard"),
    path("accounts/", include("accounts.urls")),
    path("projects/<int:pk>/journey/", journey_views.project_journey, name="project_journey"),
    path("projects/", include("projects.urls")),
    path("datasets/", include("metadata.urls")),
    path("plans/", include("dmp.urls")),
    path("submissions/", include("repositories.urls")),
    path("embargoes/", include((embargo_urlpatterns, "embargoes"))),
    path("facilities/", include((facility_urlpatterns, "facilities"))),
    path("share/", include((share_urlpatterns, "share"))),
    path("tasks/", include("workers.urls")),
    path("vocabularies/", include("vocabularies.urls")),
    path("admin/", admin.site.urls),
    path("api/v1/", include(api_v1)),
    path("api/schema/", SpectacularAPIView.as_view(), name="api-schema"),
    path("api/docs/", SpectacularSwaggerSplitView.as_view(url_name="api-schema"), name="api-docs"),
]
