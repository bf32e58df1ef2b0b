from __future__ import annotations

from django.urls import path

from metadata import views

app_name = "metadata"

urlpatterns = [path("", views.datasets_index, name="index")]
