from __future__ import annotations

from django.urls import path

from apps.notifications.api import views

urlpatterns = [
    path("notifications/", views.NotificationListView.as_view(), name="api_notifications"),
    path("notifications/read/", views.NotificationReadView.as_view(), name="api_notifications_read"),
    path("webhooks/", views.WebhookListView.as_view(), name="api_webhooks"),
    path("webhooks/<int:webhook_id>/", views.WebhookDetailView.as_view(), name="api_webhook"),
    path("webhooks/<int:webhook_id>/secret/", views.WebhookSecretView.as_view(), name="api_webhook_secret"),
    path(
        "webhooks/<int:webhook_id>/deliveries/", views.WebhookDeliveryListView.as_view(), name="api_webhook_deliveries"
    ),
]
