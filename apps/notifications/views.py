"""The notification list of each person and the webhook pages of administrators."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_http_methods, require_POST

from apps.core.forms import add_service_errors
from apps.core.ids import parse_id
from apps.core.permissions import acting_user
from apps.notifications import selectors, services, webhooks
from apps.notifications.filters import NotificationFilter
from apps.notifications.forms import WebhookForm
from apps.notifications.permissions import can_manage_webhooks


@login_required
def notification_list(request: HttpRequest) -> HttpResponse:
    filters = NotificationFilter(request.GET, queryset=selectors.notifications_for(request.user))
    page = Paginator(filters.qs, 30).get_page(request.GET.get("page"))
    return render(
        request,
        "notifications/notification_list.html",
        {"page": page, "unread_only": filters.params["unread"] == "true"},
    )


@login_required
@require_POST
def notification_read(request: HttpRequest) -> HttpResponse:
    """Mark one notification read and open its page, or mark them all read."""
    actor = acting_user(request)
    raw = request.POST.get("id", "")
    if raw == "all":
        count = services.notifications_mark_read(actor=actor)
        messages.success(request, f"Marked {count} notification{'s' if count != 1 else ''} read.")
        return redirect("notifications:notification_list")
    notification = get_object_or_404(selectors.notifications_for(request.user), pk=parse_id(raw) or 0)
    services.notifications_mark_read(actor=actor, ids=[notification.pk])
    target = notification.url
    if target and url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()}):
        return redirect(target)
    return redirect("notifications:notification_list")


def _require_webhook_admin(request: HttpRequest) -> None:
    if not can_manage_webhooks(request.user):
        raise PermissionDenied("Only administrators manage webhooks.")


@login_required
@require_http_methods(["GET", "POST"])
def webhook_list(request: HttpRequest) -> HttpResponse:
    _require_webhook_admin(request)
    form = WebhookForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            subscription = webhooks.webhook_create(actor=acting_user(request), **form.cleaned_data)
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            # The only time the secret is shown: the receiver needs it to check signatures.
            messages.success(request, f"Subscribed. Signing secret (shown once, keep it safe): {subscription.secret}")
            return redirect("notifications:webhook_detail", webhook_id=subscription.pk)
    status = 400 if request.method == "POST" else 200
    context = {"webhooks": selectors.webhooks_visible_to(request.user), "form": form}
    return render(request, "notifications/webhook_list.html", context, status=status)


@login_required
@require_http_methods(["GET", "POST"])
def webhook_detail(request: HttpRequest, webhook_id: int) -> HttpResponse:
    _require_webhook_admin(request)
    subscription = get_object_or_404(selectors.webhooks_visible_to(request.user), pk=webhook_id)
    if request.method == "POST" and request.POST.get("action") == "replace-secret":
        leaked = request.POST.get("leaked") == "on"
        subscription = webhooks.webhook_rotate_secret(
            actor=acting_user(request), subscription=subscription, keep_previous_hours=0 if leaked else 24
        )
        old = "the old one no longer signs" if leaked else "the old one signs beside it for 24 hours"
        messages.success(request, f"New signing secret (shown once, keep it safe; {old}): {subscription.secret}")
        return redirect("notifications:webhook_detail", webhook_id=subscription.pk)
    if request.method == "POST":
        active = request.POST.get("is_active")
        if active not in ("true", "false"):
            messages.error(request, "Choose to activate or to pause the subscription.")
            return redirect("notifications:webhook_detail", webhook_id=subscription.pk)
        webhooks.webhook_update(actor=acting_user(request), subscription=subscription, is_active=active == "true")
        messages.success(request, "Subscription active." if active == "true" else "Subscription paused.")
        return redirect("notifications:webhook_detail", webhook_id=subscription.pk)
    deliveries = selectors.deliveries_visible_to(request.user).filter(subscription=subscription)
    page = Paginator(deliveries, 25).get_page(request.GET.get("page"))
    return render(request, "notifications/webhook_detail.html", {"webhook": subscription, "page": page})
