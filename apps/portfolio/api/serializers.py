from __future__ import annotations

from rest_framework import serializers

from apps.accounts.models import Team, User
from apps.core.api import strict
from apps.integrations.models import MlflowModel
from apps.integrations.selectors import AliasState, unapproved


class AccountAwaitingOwnerSerializer(strict.ModelSerializer[User]):
    name = strict.CharField(source="display_name", read_only=True)
    teams: serializers.SlugRelatedField[Team] = serializers.SlugRelatedField(
        many=True, read_only=True, slug_field="slug"
    )

    class Meta:
        model = User
        fields = ["username", "name", "teams", "admin_changed_at", "own_password_set_at"]
        read_only_fields = fields


class MlflowAliasStateSerializer(serializers.Serializer[AliasState]):
    alias = strict.CharField(read_only=True)
    mlflow_version = strict.IntegerField(source="number", read_only=True)
    version = strict.IntegerField(source="version_number", read_only=True, allow_null=True)
    protected = strict.BooleanField(read_only=True)
    environment = strict.CharField(read_only=True, allow_null=True)
    backed = strict.BooleanField(read_only=True, help_text="Whether a current approval backs the version")
    unapproved = serializers.SerializerMethodField(help_text="A protected alias on a version no approval backs")
    reasons = serializers.ListField(child=strict.CharField(), read_only=True)

    def get_unapproved(self, obj: AliasState) -> bool:
        return unapproved(obj)


class PortfolioMlflowModelSerializer(strict.ModelSerializer[MlflowModel]):
    connection = strict.CharField(source="connection.name", read_only=True)
    mlflow_name = strict.CharField(source="name", read_only=True)
    model = strict.IntegerField(source="model.pk", read_only=True)
    model_name = strict.CharField(source="model.name", read_only=True)
    project = strict.CharField(source="model.project.slug", read_only=True)
    aliases = MlflowAliasStateSerializer(source="alias_list", many=True, read_only=True)
    unapproved_alias = serializers.SerializerMethodField(help_text="A protected alias points at an unapproved version")

    class Meta:
        model = MlflowModel
        fields = ["connection", "mlflow_name", "model", "model_name", "project", "aliases", "unapproved_alias"]
        read_only_fields = fields

    def get_unapproved_alias(self, obj: MlflowModel) -> bool:
        return any(unapproved(state) for state in getattr(obj, "alias_list", []))


class PortfolioMonitoringSerializer(serializers.Serializer[dict[str, int]]):
    monitored = strict.IntegerField(read_only=True, help_text="Deployed versions with an active monitor")
    monitors = strict.IntegerField(read_only=True, help_text="Active monitors")
    breaching = strict.IntegerField(read_only=True, help_text="Versions with a metric out of its threshold now")
    late = strict.IntegerField(read_only=True, help_text="Versions with a monitor not fed for longer than expected")


class PortfolioSerializer(serializers.Serializer[dict[str, object]]):
    accounts_awaiting_owner = AccountAwaitingOwnerSerializer(many=True, read_only=True)
    accounts_awaiting_owner_count = strict.IntegerField(read_only=True)
    mlflow_models = PortfolioMlflowModelSerializer(many=True, read_only=True)
    mlflow_models_count = strict.IntegerField(read_only=True)
    monitoring = PortfolioMonitoringSerializer(read_only=True)
