"""Sign-in, sign-out and the personal settings page (API tokens)."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth import update_session_auth_hash
from django.contrib.auth.decorators import login_required
from django.contrib.auth.forms import PasswordChangeForm
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render, resolve_url
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_protect
from django.views.decorators.debug import sensitive_post_parameters
from django.views.decorators.http import require_http_methods, require_POST

from apps.accounts import selectors, services
from apps.accounts.forms import ApiTokenCreateForm, SignInForm
from apps.core.permissions import acting_user


def _safe_next(request: HttpRequest) -> str:
    target = request.POST.get("next") or request.GET.get("next") or ""
    if target and url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return target
    return resolve_url("core:home")


@sensitive_post_parameters("password")
@csrf_protect
@never_cache
@require_http_methods(["GET", "POST"])
def sign_in(request: HttpRequest) -> HttpResponse:
    if request.user.is_authenticated and request.method == "GET":
        return redirect(_safe_next(request))
    form = SignInForm(request.POST or None)
    status = 200
    if request.method == "POST":
        if form.is_valid():
            try:
                services.user_sign_in(
                    request=request, username=form.cleaned_data["username"], password=form.cleaned_data["password"]
                )
                return redirect(_safe_next(request))
            except services.SignInRefused as refused:
                form.add_error(None, str(refused))
        status = 400
    return render(request, "accounts/sign_in.html", {"form": form, "next": request.GET.get("next", "")}, status=status)


@require_POST
def sign_out(request: HttpRequest) -> HttpResponse:
    services.user_sign_out(request=request)
    messages.info(request, "You are signed out.")
    return redirect("accounts:sign_in")


def _render_settings(request: HttpRequest, status: int = 200, **context: Any) -> HttpResponse:
    context.setdefault("form", ApiTokenCreateForm())
    context.setdefault("password_form", PasswordChangeForm(request.user))
    context["tokens"] = selectors.api_tokens_of(user=acting_user(request))
    response = render(request, "accounts/user_settings.html", context, status=status)
    response["Cache-Control"] = "no-store"
    return response


@login_required
@require_http_methods(["GET", "POST"])
def settings_page(request: HttpRequest) -> HttpResponse:
    """Show the person's details and API tokens; create a token (its secret is shown only now)."""
    if request.method == "GET":
        return _render_settings(request)
    form = ApiTokenCreateForm(request.POST)
    if form.is_valid():
        try:
            token, raw = services.api_token_create(
                actor=acting_user(request),
                user=acting_user(request),
                name=form.cleaned_data["name"],
                days=form.cleaned_data["days"],
            )
            return _render_settings(request, new_token=token, new_token_secret=raw)
        except ValidationError as exc:
            for field, errors in exc.message_dict.items():
                form.add_error(field if field in form.fields else None, errors)
    return _render_settings(request, status=400, form=form)


@sensitive_post_parameters("old_password", "new_password1", "new_password2")
@login_required
@require_POST
def password_change(request: HttpRequest) -> HttpResponse:
    """Change one's own password; the session stays signed in."""
    form = PasswordChangeForm(acting_user(request), request.POST)
    if not form.is_valid():
        return _render_settings(request, status=400, password_form=form)
    user = services.user_set_password(
        actor=acting_user(request), user=acting_user(request), password=form.cleaned_data["new_password1"]
    )
    update_session_auth_hash(request, user)
    messages.success(request, "Your password is changed.")
    return redirect("accounts:settings")


@login_required
@require_POST
def api_token_revoke(request: HttpRequest, token_id: int) -> HttpResponse:
    token = selectors.api_token_get(user=acting_user(request), token_id=token_id)
    services.api_token_revoke(actor=acting_user(request), token=token)
    messages.success(request, f"Token “{token.name}” is revoked.")
    return redirect("accounts:settings")
