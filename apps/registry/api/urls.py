from __future__ import annotations

from django.urls import path

from apps.registry.api import views

urlpatterns = [
    path("models/", views.RegisteredModelListView.as_view(), name="api_models"),
    path("models/<int:model_id>/", views.RegisteredModelDetailView.as_view(), name="api_model"),
    path("models/<int:model_id>/versions/", views.ModelVersionListView.as_view(), name="api_model_versions"),
    path("versions/<int:version_id>/", views.ModelVersionDetailView.as_view(), name="api_version"),
    path("versions/<int:version_id>/card/", views.ModelCardView.as_view(), name="api_version_card"),
    path("datasets/", views.DatasetListView.as_view(), name="api_datasets"),
    path("datasets/<int:dataset_id>/versions/", views.DatasetVersionListView.as_view(), name="api_dataset_versions"),
]
