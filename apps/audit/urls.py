from __future__ import annotations

from django.urls import path, re_path

from apps.audit import views

app_name = "audit"

urlpatterns = [
    path("", views.audit_event_list, name="auditevent_list"),
    re_path(r"^export\.(?P<export_format>csv|jsonl)$", views.audit_event_export, name="auditevent_export"),
    path("verify/", views.audit_verify_start, name="chain_verify"),
    path("verification/", views.audit_verification_status, name="chain_status"),
]
