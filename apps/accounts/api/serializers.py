from __future__ import annotations

from rest_framework import serializers

from apps.accounts.models import Team, User
from apps.core.api import strict
from apps.core.context import current


class TeamSerializer(strict.ModelSerializer[Team]):
    class Meta:
        model = Team
        fields = ("slug", "name", "function")


class MeSerializer(strict.ModelSerializer[User]):
    teams = TeamSerializer(many=True, read_only=True)
    display_name = strict.CharField(read_only=True)
    is_administrator = strict.BooleanField(source="is_superuser", read_only=True)
    roles = serializers.SerializerMethodField()
    auth_method = serializers.SerializerMethodField()

    class Meta:
        model = User
        fields = ("id", "username", "display_name", "email", "is_administrator", "teams", "roles", "auth_method")

    def get_roles(self, user: User) -> list[str]:
        """Team functions now; project roles join them with the projects feature."""
        return sorted({team.function for team in user.teams.all()})

    def get_auth_method(self, user: User) -> str:
        return current().auth_method
