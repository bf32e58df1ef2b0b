from __future__ import annotations

from django.urls import path

from vocabularies import views

app_name = "vocabularies"

urlpatterns = [path("terms/", views.term_options, name="term_options")]
