from __future__ import annotations

from django.apps import AppConfig
from django.db.models.signals import m2m_changed, post_delete, post_save


class AccountsConfig(AppConfig):
    name = "apps.accounts"
    label = "accounts"
    verbose_name = "Accounts and teams"

    def ready(self) -> None:
        # The models exist only once the app registry is ready.
        from apps.accounts.models import Team, User  # noqa: PLC0415 - imports models
        from apps.accounts.receivers import forget_teams  # noqa: PLC0415 - as above

        m2m_changed.connect(forget_teams, sender=User.teams.through, dispatch_uid="accounts.forget_teams_on_members")
        post_save.connect(forget_teams, sender=Team, dispatch_uid="accounts.forget_teams_on_team_saved")
        post_delete.connect(forget_teams, sender=Team, dispatch_uid="accounts.forget_teams_on_team_deleted")
