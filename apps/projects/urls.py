from __future__ import annotations

from django.urls import path

from apps.projects import views

app_name = "projects"

urlpatterns = [
    path("", views.project_list, name="project_list"),
    path("new/", views.project_create, name="project_create"),
    path("<slug:slug>/", views.project_detail, name="project_detail"),
    path("<slug:slug>/edit/", views.project_edit, name="project_edit"),
    path("<slug:slug>/team/", views.project_members, name="project_members"),
    path("<slug:slug>/team/<int:membership_id>/remove/", views.project_member_remove, name="project_member_remove"),
    path("<slug:slug>/risk/", views.project_qualify, name="project_qualify"),
    path("<slug:slug>/kpis/", views.kpi_add, name="kpi_add"),
    path("<slug:slug>/kpis/<int:kpi_id>/values/", views.kpi_value_add, name="kpi_value_add"),
    path("<slug:slug>/data-needs/", views.data_need_add, name="data_need_add"),
    path("<slug:slug>/data-needs/<int:need_id>/", views.data_need_update, name="data_need_update"),
    path("<slug:slug>/discussion/", views.comment_add, name="comment_add"),
]
