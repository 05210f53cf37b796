"""The default IT-readiness and compliance stages require the matching team, not only a role.

Databases created before this change have current policies whose ``it_readiness`` and ``compliance``
stages name only a project role. Each such tier gets a new, audited policy version that adds the team;
open reviews keep the stages they opened with, like any policy change. New databases already start
with the team (migration 0002 reads ``DEFAULT_POLICIES``), so this finds nothing to do there.
"""

from __future__ import annotations

from typing import Any

from django.db import migrations

from apps.workflows.policies import TEAM_OF_DEFAULT_STAGE


def with_teams(stages: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Return ``stages`` with the team added to default stages that lack it."""
    fixed = []
    for stage in stages:
        role_team = TEAM_OF_DEFAULT_STAGE.get(stage.get("key", ""))
        needs_team = role_team and not stage.get("team") and stage.get("project_roles") == [role_team[0]]
        fixed.append({**stage, "team": role_team[1]} if role_team and needs_team else stage)
    return fixed


def add_teams(apps: Any, schema_editor: Any) -> None:
    from apps.audit.services import (  # noqa: PLC0415 - the one writer of the trail, at migration time
        audit_record,
        changes_between,
    )

    policy_model = apps.get_model("workflows", "ApprovalPolicy")
    for previous in policy_model.objects.filter(is_current=True).order_by("tier"):
        stages = with_teams(previous.stages)
        if stages == previous.stages:
            continue
        policy_model.objects.filter(pk=previous.pk).update(is_current=False)
        policy = policy_model.objects.create(
            tier=previous.tier,
            version=previous.version + 1,
            stages=stages,
            review_period_days=previous.review_period_days,
            grace_days=previous.grace_days,
            requires_validation=previous.requires_validation,
            is_current=True,
        )
        audit_record(
            actor=None,
            actor_name="migration",
            action="workflows.policy.published",
            target=policy,
            target_repr=f"{previous.tier.capitalize()} risk policy v{policy.version}",
            changes=changes_between({"stages": previous.stages}, {"stages": stages}),
            data={
                "tier": policy.tier,
                "version": policy.version,
                "reason": "IT readiness and compliance stages are signed by members of the matching team",
            },
        )


class Migration(migrations.Migration):
    dependencies = [("workflows", "0007_finding_source"), ("audit", "0004_checkpoints_and_strict_truncate")]

    operations = [migrations.RunPython(add_teams, migrations.RunPython.noop)]
