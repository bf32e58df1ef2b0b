from __future__ import annotations

from django.urls import path

from dmp import export_views, import_views, living_views, review_views, tool_views, version_views, views

app_name = "dmp"

urlpatterns = [
    path("", views.plans_index, name="index"),
    path("templates/<int:pk>/", views.template_detail, name="template_detail"),
    path("templates/<int:pk>/guidance/<int:facility_pk>/", views.guidance_save, name="guidance_save"),
    path("project/<int:project_pk>/new/", views.plan_new, name="plan_new"),
    path("<int:pk>/", views.plan_detail, name="plan_detail"),
    path("<int:pk>/s/<str:section>/", views.plan_section, name="plan_section"),
    path("<int:pk>/answer/", views.answer_save, name="answer_save"),
    path("<int:pk>/blocks/", views.plan_blocks, name="plan_blocks"),
    path("<int:pk>/madmp.json", views.plan_madmp_download, name="plan_madmp"),
    # exports
    path("import/", import_views.plan_import, name="plan_import"),
    path("<int:pk>/export.<str:kind>", export_views.plan_export, name="plan_export"),
    # review and comments
    path("<int:pk>/comments/", review_views.comment_add, name="comment_add"),
    path("<int:pk>/comments/<int:comment_pk>/resolve/", review_views.comment_resolve, name="comment_resolve"),
    path("<int:pk>/comments/<int:comment_pk>/reopen/", review_views.comment_reopen, name="comment_reopen"),
    path("<int:pk>/review/", review_views.review_request, name="review_request"),
    path("reviews/", review_views.review_queue, name="review_queue"),
    path("reviews/<int:pk>/", review_views.review_detail, name="review_detail"),
    path("reviews/<int:pk>/complete/", review_views.review_complete, name="review_complete"),
    path("reviews/<int:pk>/withdraw/", review_views.review_withdraw, name="review_withdraw"),
    # versions and history
    path("<int:pk>/versions/", version_views.plan_versions, name="plan_versions"),
    path("<int:pk>/versions/new/", version_views.snapshot_new, name="snapshot_new"),
    path("<int:pk>/versions/compare/", version_views.plan_diff, name="plan_diff"),
    path(
        "<int:pk>/versions/<int:snapshot_pk>/restore/",
        version_views.snapshot_restore,
        name="snapshot_restore",
    ),
    path("<int:pk>/versions/notice/", version_views.template_notice, name="template_notice"),
    path("<int:pk>/history/", version_views.plan_history, name="plan_history"),
    path("<int:pk>/upgrade/", version_views.plan_upgrade, name="plan_upgrade"),
    # estimator and FAIR score
    path("<int:pk>/estimate/", tool_views.plan_estimate, name="plan_estimate"),
    path("<int:pk>/fair/", tool_views.plan_fair, name="plan_fair"),
    # living DMP: planned vs actual
    path("<int:pk>/living/", living_views.plan_living, name="living"),
    path("<int:pk>/living/offers/", living_views.living_offers, name="living_offers"),
    path("<int:pk>/living/links/", living_views.link_create, name="living_link"),
    path("<int:pk>/living/links/<int:link_pk>/delete/", living_views.link_delete, name="living_unlink"),
    path("<int:pk>/living/use/", living_views.offer_use, name="living_use"),
    path("<int:pk>/living/new-version/", living_views.snapshot_from_current, name="living_snapshot"),
]
