from __future__ import annotations

from rest_framework import serializers

from apps.accounts.models import Team, User
from apps.core.api import strict


class AccountAwaitingOwnerSerializer(strict.ModelSerializer[User]):
    name = strict.CharField(source="display_name", read_only=True)
    teams: serializers.SlugRelatedField[Team] = serializers.SlugRelatedField(
        many=True, read_only=True, slug_field="slug"
    )

    class Meta:
        model = User
        fields = ["username", "name", "teams", "admin_changed_at", "own_password_set_at"]
        read_only_fields = fields


class PortfolioSerializer(serializers.Serializer[dict[str, object]]):
    accounts_awaiting_owner = AccountAwaitingOwnerSerializer(many=True, read_only=True)
    accounts_awaiting_owner_count = strict.IntegerField(read_only=True)
