from __future__ import annotations

from django.urls import path

from dmp import views

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
]
