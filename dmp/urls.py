from __future__ import annotations

from django.urls import path

from dmp import views

app_name = "dmp"

urlpatterns = [path("", views.plans_index, name="index")]
