from __future__ import annotations

from django.urls import path

from apps.workflows import views

app_name = "workflows"

urlpatterns = [
    path("versions/<int:version_id>/submit/", views.version_submit, name="version_submit"),
    path("versions/<int:version_id>/deploy/", views.deployment_record, name="deployment_record"),
    path("reviews/<int:review_id>/", views.review_detail, name="review_detail"),
    path("reviews/<int:review_id>/findings/", views.finding_raise, name="finding_raise"),
    path("reviews/<int:review_id>/delegate/", views.review_delegate, name="review_delegate"),
    path("findings/<int:finding_id>/", views.finding_update, name="finding_update"),
    path("versions/<int:version_id>/retire/", views.version_retire, name="version_retire"),
    path("policies/", views.policy_list, name="policy_list"),
    path("policies/<str:tier>/edit/", views.policy_edit, name="policy_edit"),
]
