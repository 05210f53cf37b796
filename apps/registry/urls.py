from __future__ import annotations

from django.urls import path

from apps.registry import views

app_name = "registry"

urlpatterns = [
    path("projects/<slug:slug>/models/new/", views.model_create, name="model_create"),
    path("models/<int:model_id>/", views.model_detail, name="model_detail"),
    path("models/<int:model_id>/versions/new/", views.version_create, name="version_create"),
    path("versions/<int:version_id>/", views.version_detail, name="version_detail"),
    path("versions/<int:version_id>/edit/", views.version_edit, name="version_edit"),
    path("versions/<int:version_id>/card/", views.card_edit, name="card_edit"),
    path("models/", views.model_list, name="model_list"),
    path("datasets/", views.dataset_list, name="dataset_list"),
    path("datasets/<int:dataset_id>/edit/", views.dataset_edit, name="dataset_edit"),
    path("projects/<slug:slug>/datasets/new/", views.dataset_create, name="dataset_create"),
    path("datasets/<int:dataset_id>/", views.dataset_detail, name="dataset_detail"),
    path("datasets/<int:dataset_id>/upload/", views.dataset_version_upload, name="datasetversion_upload"),
    path("datasets/<int:dataset_id>/link/", views.dataset_version_link, name="datasetversion_link"),
    path("dataset-versions/<int:version_id>/download/", views.dataset_version_download, name="datasetversion_download"),
    path("catalogue/", views.catalogue, name="catalogue"),
]
