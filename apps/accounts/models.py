"""People, the teams they belong to, and their API tokens."""

from __future__ import annotations

from typing import Any

from django.contrib.auth.models import AbstractUser
from django.contrib.auth.models import UserManager as DjangoUserManager
from django.db import models
from django.utils import timezone

from apps.accounts.choices import TeamFunction
from apps.accounts.querysets import ApiTokenQuerySet


class Team(models.Model):
    name = models.CharField(max_length=100, unique=True)
    slug = models.SlugField(max_length=100, unique=True)
    function = models.CharField(max_length=32, choices=TeamFunction.choices)
    description = models.TextField(blank=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class UserManager(DjangoUserManager["User"]):
    """``createsuperuser`` and ``create_user`` go through the audited service like everything else."""

    def create_user(self, username: str, email: str | None = None, password: str | None = None, **extra: Any) -> User:
        from apps.accounts.services import user_create  # noqa: PLC0415 - the services import these models

        return user_create(actor=None, username=username, email=email or "", password=password, **extra)

    def create_superuser(
        self, username: str, email: str | None = None, password: str | None = None, **extra: Any
    ) -> User:
        extra.pop("is_staff", None)
        extra["is_superuser"] = True
        return self.create_user(username, email, password, **extra)


class User(AbstractUser):
    """A person. Users with audit history are deactivated, never deleted."""

    teams = models.ManyToManyField(Team, related_name="members", blank=True)
    # One insider never makes a second pair of eyes (DESIGN section 4): an account that an administrator
    # created, gave a password, teams or access to does not sign off until its owner set a password.
    admin_changed_at = models.DateTimeField(
        null=True, blank=True, help_text="Last time an administrator set it up or changed its password, teams or access"
    )
    own_password_set_at = models.DateTimeField(
        null=True, blank=True, help_text="Last time its owner set their own password"
    )
    # A pipeline's account (docs/decisions/0022): it reports deployments with an API token, never signs
    # in with a password and never counts as a pair of eyes.
    is_service_account = models.BooleanField(
        default=False,
        help_text="A pipeline, not a person: signs in only with API tokens, never signs off or judges",
    )

    objects = UserManager()  # type: ignore[misc]

    class Meta:
        ordering = ["username"]

    @property
    def display_name(self) -> str:
        return self.get_full_name() or self.username


class ApiToken(models.Model):
    """A bearer token. Only its SHA-256 is stored; the token itself is shown once."""

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="api_tokens")
    name = models.CharField(max_length=100)
    prefix = models.CharField(max_length=16, help_text="The first characters, to recognise a token.")
    digest = models.CharField(max_length=64, unique=True)
    created_at = models.DateTimeField(default=timezone.now)
    expires_at = models.DateTimeField()
    last_used_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    objects = ApiTokenQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.name} ({self.prefix}…)"

    @property
    def is_active(self) -> bool:
        return self.revoked_at is None and self.expires_at > timezone.now()
