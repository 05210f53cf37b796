"""Recording deployments, which the deployment gate must allow."""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.db import transaction
from django.urls import reverse

from apps.accounts.models import User
from apps.audit.actions import Action
from apps.core.permissions import require
from apps.notifications.choices import Event
from apps.notifications.services import announce
from apps.projects.choices import ProjectRole
from apps.projects.selectors import project_people
from apps.registry.models import ModelVersion
from apps.workflows import lifecycle
from apps.workflows.models import Deployment
from apps.workflows.services._common import version_move


def deployment_record(*, actor: User, version: ModelVersion, environment: str, notes: str = "") -> Deployment:
    """Record a deployment by IT operations; refused unless the gate allows it.

    Side effects: the version becomes deployed; ``workflows.deployment.recorded``.
    """
    project = version.model.project
    move = lifecycle.MOVES["deploy"]
    require(move.may(actor, project), move.denied)
    with transaction.atomic():
        version = (
            ModelVersion.objects.select_for_update(of=("self",), no_key=True)
            .select_related("model__project")
            .get(pk=version.pk)
        )
        refusal = lifecycle.state_refusal(move, lifecycle.VersionState(version, environment=environment))
        if refusal is not None:
            raise ValidationError({refusal.field: refusal.message})
        deployment = Deployment(version=version, environment=environment, deployed_by=actor, notes=notes.strip())
        deployment.full_clean()
        deployment.save()
        version_move(actor, version, move.target, Action.DEPLOYMENT_RECORDED, {"environment": environment})
        announce(
            event=Event.DEPLOYMENT_RECORDED,
            title=f"{version.model.name} v{version.number} was deployed to {environment}",
            body=deployment.notes,
            recipients=[version.created_by, *project_people(project, ProjectRole.OWNER, ProjectRole.BUSINESS_OWNER)],
            url=reverse("registry:version_detail", kwargs={"version_id": version.pk}),
            project=project,
            data={
                "version": version.pk,
                "model": version.model.name,
                "number": version.number,
                "environment": environment,
                "deployed_by": actor.get_username(),
            },
        )
    return deployment
