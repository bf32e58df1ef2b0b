from __future__ import annotations

from django.urls import path

from workers import views

urlpatterns = [path("", views.task_status, name="task_status")]
