from __future__ import annotations

from django.urls import path

from repositories import views

app_name = "repositories"

urlpatterns = [path("", views.submissions_index, name="index")]
