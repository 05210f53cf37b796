from __future__ import annotations

from django.urls import path

from apps.validation import views

app_name = "validation"

urlpatterns = [
    path("versions/<int:version_id>/runs/new/", views.run_create, name="run_create"),
    path("runs/<int:run_id>/", views.run_detail, name="run_detail"),
    path("runs/<int:run_id>/results.<str:fmt>", views.run_export, name="run_export"),
    path("projects/<slug:slug>/suites/", views.suite_list, name="suite_list"),
]
