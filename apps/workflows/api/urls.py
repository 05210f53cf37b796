from __future__ import annotations

from django.urls import path

from apps.workflows.api import views

urlpatterns = [
    path("versions/<int:version_id>/submit/", views.VersionSubmitView.as_view(), name="api_version_submit"),
    path("versions/<int:version_id>/retire/", views.VersionRetireView.as_view(), name="api_version_retire"),
    path("versions/<int:version_id>/moves/", views.VersionMovesView.as_view(), name="api_version_moves"),
    path("reviews/", views.ReviewListView.as_view(), name="api_reviews"),
    path("reviews/<int:review_id>/", views.ReviewDetailView.as_view(), name="api_review"),
    path("reviews/<int:review_id>/decisions/", views.DecisionView.as_view(), name="api_review_decisions"),
    path("findings/", views.FindingListView.as_view(), name="api_findings"),
    path("findings/<int:finding_id>/", views.FindingDetailView.as_view(), name="api_finding"),
    path("deployments/", views.DeploymentListView.as_view(), name="api_deployments"),
    path("gate/", views.GateView.as_view(), name="api_gate"),
    path("policies/", views.PolicyListView.as_view(), name="api_policies"),
    path("reviews/<int:review_id>/delegate/", views.DelegationView.as_view(), name="api_review_delegate"),
]
