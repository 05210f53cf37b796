"""Administration of people and teams. Every save goes through the accounts services (audited)."""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.contrib.auth.forms import AdminPasswordChangeForm, AdminUserCreationForm, UsernameField
from django.forms import ModelForm
from django.http import HttpRequest

from apps.accounts import services
from apps.accounts.models import ApiToken, Team, User
from apps.core.admin import ReadOnlyAdmin
from apps.core.context import current


def _actor(request: HttpRequest) -> User:
    assert isinstance(request.user, User)  # the admin site only lets signed-in staff through
    return request.user


_USER_EDITABLE = ("username", "email", "first_name", "last_name", "is_active", "is_superuser", "is_service_account")


class UserAddForm(AdminUserCreationForm):
    """Django's add form plus the service-account box: a pipeline's account gets no password."""

    class Meta:
        model = User
        fields = ("username", "is_service_account")
        field_classes = {"username": UsernameField}

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or self.cleaned_data
        if cleaned.get("is_service_account") and cleaned.get("password1"):
            self.add_error("is_service_account", "A service account has no password: it uses API tokens (createtoken).")
        return cleaned


class AuditedPasswordChangeForm(AdminPasswordChangeForm):
    def save(self, commit: bool = True) -> Any:
        actor_id = current().user_id
        actor = User.objects.filter(pk=actor_id).first() if actor_id else None
        password = self.cleaned_data["password1"] if self.cleaned_data.get("set_usable_password", True) else None
        return services.user_set_password(actor=actor, user=self.user, password=password)


@admin.register(User)
class UserAdmin(DjangoUserAdmin):
    change_password_form = AuditedPasswordChangeForm
    add_form = UserAddForm
    add_fieldsets = (
        (
            None,
            {
                "classes": ("wide",),
                "fields": ("username", "is_service_account", "usable_password", "password1", "password2"),
            },
        ),
    )
    list_display = ("username", "first_name", "last_name", "email", "is_active", "is_superuser", "is_service_account")
    list_filter = ("is_active", "is_superuser", "is_service_account", "teams")
    filter_horizontal = ("teams",)
    fieldsets = (
        (None, {"fields": ("username", "password")}),
        ("Person", {"fields": ("first_name", "last_name", "email")}),
        ("Access", {"fields": ("is_active", "is_superuser", "is_service_account", "teams")}),
        ("Dates", {"fields": ("last_login", "date_joined")}),
    )
    readonly_fields = ("last_login", "date_joined")

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> Any:
        fields = list(super().get_readonly_fields(request, obj))
        if obj is not None and obj.pk == request.user.pk:
            fields += ["is_superuser", "is_active", "teams"]  # nobody grants a role to themselves
        return fields

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False  # deactivate instead: the audit trail keeps referring to people

    def save_model(self, request: HttpRequest, obj: Any, form: ModelForm, change: bool) -> None:
        data = form.cleaned_data
        if change:
            fields = {name: data[name] for name in _USER_EDITABLE if name in data and name in form.changed_data}
            services.user_update(actor=_actor(request), user=obj, **fields)
            return
        created = services.user_create(
            actor=_actor(request),
            username=data["username"],
            password=data.get("password1") or None,
            is_service_account=bool(data.get("is_service_account")),
        )
        obj.pk = created.pk
        obj._state.adding = False
        obj._state.db = "default"

    def save_related(self, request: HttpRequest, form: ModelForm, formsets: Any, change: bool) -> None:
        if change and "teams" in form.cleaned_data and "teams" in form.changed_data:
            services.user_update(actor=_actor(request), user=form.instance, teams=form.cleaned_data["teams"])
        for formset in formsets:
            self.save_formset(request, form, formset, change=change)


@admin.register(Team)
class TeamAdmin(admin.ModelAdmin):
    list_display = ("name", "slug", "function")
    prepopulated_fields = {"slug": ("name",)}

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def save_model(self, request: HttpRequest, obj: Any, form: ModelForm, change: bool) -> None:
        data = form.cleaned_data
        if change:
            fields = {
                name: data[name] for name in form.changed_data if name in ("name", "slug", "function", "description")
            }
            services.team_update(actor=_actor(request), team=obj, **fields)
            return
        created = services.team_create(
            actor=_actor(request),
            name=data["name"],
            slug=data["slug"],
            function=data["function"],
            description=data.get("description", ""),
        )
        obj.pk = created.pk
        obj._state.adding = False
        obj._state.db = "default"


@admin.register(ApiToken)
class ApiTokenAdmin(ReadOnlyAdmin):
    """Read-only list; people create and revoke their tokens on their settings page."""

    list_display = ("name", "user", "prefix", "created_at", "expires_at", "last_used_at", "revoked_at")
    readonly_fields = ("user", "name", "prefix", "created_at", "expires_at", "last_used_at", "revoked_at")
    exclude = ("digest",)
