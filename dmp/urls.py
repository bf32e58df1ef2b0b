from __future__ import annotations

from django.urls import path

from dmp import views

app_name = "dmp"

urlpatterns = [
    path("", views.plans_index, name="index"),
    path("templates/<int:pk>/", views.template_detail, name="template_detail"),
    path("templates/<int:pk>/guidance/<int:facility_pk>/", views.guidance_save, name="guidance_save"),
]
