from __future__ import annotations

from django.contrib import admin
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView
from rest_framework.routers import DefaultRouter

from dmp import api as dmp_api
from metadata import api as metadata_api
from projects import api as projects_api
from projects import views as projects_views
from repositories import api as repositories_api
from vocabularies import api as vocabularies_api

router = DefaultRouter()
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
]

urlpatterns = [
    path("", projects_views.dashboard, name="dashboard"),
    path("accounts/", include("accounts.urls")),
    path("projects/", include("projects.urls")),
    path("datasets/", include("metadata.urls")),
    path("plans/", include("dmp.urls")),
    path("submissions/", include("repositories.urls")),
    path("tasks/", include("workers.urls")),
    path("vocabularies/", include("vocabularies.urls")),
    path("admin/", admin.site.urls),
    path("api/v1/", include(api_v1)),
    path("api/schema/", SpectacularAPIView.as_view(), name="api-schema"),
    path("api/docs/", SpectacularSwaggerSplitView.as_view(url_name="api-schema"), name="api-docs"),
]
