from __future__ import annotations

from django.urls import path

from apps.projects.api import views

urlpatterns = [
    path("projects/", views.ProjectListView.as_view(), name="api_projects"),
    path("projects/<slug:slug>/", views.ProjectDetailView.as_view(), name="api_project"),
    path("projects/<slug:slug>/members/", views.MembershipView.as_view(), name="api_project_members"),
    path("projects/<slug:slug>/qualification/", views.QualificationView.as_view(), name="api_project_qualification"),
]
