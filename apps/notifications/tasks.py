"""Celery tasks that send what ``announce`` wrote: they take ids and call the services."""

from __future__ import annotations

from celery import shared_task

from apps.notifications import services, webhooks


@shared_task(bind=True, max_retries=services.MAX_EMAIL_ATTEMPTS, default_retry_delay=60)
def send_notification_email(self, notification_id: int) -> str:  # type: ignore[no-untyped-def]
    try:
        return services.notification_email_send(notification_id)
    except OSError as exc:  # the mail server is away; the service kept the e-mail pending
        raise self.retry(exc=exc, countdown=60 * 2**self.request.retries) from exc  # 1, 2, 4, 8, 16 minutes


@shared_task
def deliver_webhook(delivery_id: int) -> str:
    status, delay = webhooks.webhook_deliver(delivery_id)
    if delay is not None:
        deliver_webhook.apply_async((delivery_id,), countdown=delay)
    return status


@shared_task
def notifications_sweep() -> dict[str, int]:
    return services.pending_sweep()
