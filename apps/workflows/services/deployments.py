"""Recording deployments, which the deployment gate must allow."""

from __future__ import annotations

import re

from django.core.exceptions import ValidationError
from django.core.validators import URLValidator
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
from apps.workflows.services.findings import finding_raise_unapproved

REPORT_ACTOR = "deployment-report"  # the trail's name for Signet raising the finding of a refused report
_SHA256 = re.compile(r"[0-9a-f]{64}")
_PIPELINE_URL = URLValidator(
    schemes=["http", "https"], message="Give the pipeline run's address as an http or https URL."
)


class GateRefused(Exception):
    """The gate's refusal, carried out of the transaction it rolls back."""

    def __init__(self, field: str, message: str | list[str]) -> None:
        super().__init__(message)
        self.field = field
        self.reasons = [message] if isinstance(message, str) else list(message)


def _report_input_refusal(artifact_sha256: str, pipeline_url: str) -> ValidationError | None:
    """What is wrong with the pipeline's own fields, checked before the gate: a typo raises no finding."""
    if artifact_sha256 and not _SHA256.fullmatch(artifact_sha256):
        return ValidationError(
            {"artifact_sha256": "Give the artifact's SHA-256 as 64 lowercase hexadecimal characters."}
        )
    if len(pipeline_url) > 500:
        return ValidationError({"pipeline_url": "The pipeline run's address is at most 500 characters."})
    if pipeline_url:
        try:
            _PIPELINE_URL(pipeline_url)
        except ValidationError as exc:
            return ValidationError({"pipeline_url": exc.messages})
    return None


def deployment_record(
    *,
    actor: User,
    version: ModelVersion,
    environment: str,
    notes: str = "",
    artifact_sha256: str = "",
    pipeline_url: str = "",
) -> Deployment:
    """Record a deployment by IT operations (a person, or a pipeline's service account); refused unless
    the gate allows it for ``environment`` and, when given, for the artifact ``artifact_sha256``.

    A report (one that carries an artifact digest, or any made by a service account) says something
    was deployed already: when the gate refuses it, the refusal still goes back to the caller, and
    after the refused transaction has rolled back a high ``unapproved_deployment`` finding is raised
    (one per version and environment while it stays open), so the trail keeps it either way.
    Side effects: the version becomes deployed; ``workflows.deployment.recorded``; on a refused report,
    ``workflows.finding.raised``. Raises PermissionDenied, ValidationError.
    """
    project = version.model.project
    move = lifecycle.MOVES["deploy"]
    require(move.may(actor, project), move.denied)
    wrong = _report_input_refusal(artifact_sha256, pipeline_url)
    if wrong is not None:
        raise wrong
    reported = bool(artifact_sha256) or actor.is_service_account
    try:
        with transaction.atomic():
            version = (
                ModelVersion.objects.select_for_update(of=("self",), no_key=True)
                .select_related("model__project")
                .get(pk=version.pk)
            )
            state = lifecycle.VersionState(version, environment=environment, artifact_sha256=artifact_sha256 or None)
            refusal = lifecycle.state_refusal(move, state)
            if refusal is not None:
                raise GateRefused(refusal.field, refusal.message)
            deployment = Deployment(
                version=version,
                environment=environment,
                deployed_by=actor,
                notes=notes.strip(),
                artifact_sha256=artifact_sha256,
                pipeline_url=pipeline_url,
                reported_by_pipeline=reported,
            )
            deployment.full_clean()
            deployment.save()
            data: dict[str, object] = {"environment": environment}
            if reported:
                data.update(artifact_sha256=artifact_sha256, pipeline_url=pipeline_url, reported_by_pipeline=True)
            version_move(actor, version, move.target, Action.DEPLOYMENT_RECORDED, data)
            announce(
                event=Event.DEPLOYMENT_RECORDED,
                title=f"{version.model.name} v{version.number} was deployed to {environment}",
                body=deployment.notes,
                recipients=[
                    version.created_by,
                    *project_people(project, ProjectRole.OWNER, ProjectRole.BUSINESS_OWNER),
                ],
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
    except GateRefused as refused:
        if reported:  # the refused transaction is gone; what the pipeline says it did stays on record
            _raise_unapproved(actor, version, environment, artifact_sha256, pipeline_url, refused.reasons)
        raise ValidationError({refused.field: refused.reasons}) from None
    return deployment


def _raise_unapproved(
    actor: User, version: ModelVersion, environment: str, artifact_sha256: str, pipeline_url: str, reasons: list[str]
) -> None:
    label = f"{version.model.name} v{version.number}"
    what = f"the artifact with SHA-256 {artifact_sha256}" if artifact_sha256 else label
    where = f" (pipeline run {pipeline_url})" if pipeline_url else ""
    finding_raise_unapproved(
        version=version,
        raised_by=actor,
        actor_name=REPORT_ACTOR,
        source=f"deployment-report:{environment}",
        title=f"Deployed without approval: {label} in {environment}",
        description=f"{actor.get_username()} reported that {what} was deployed to {environment}{where}, "
        f"which the deployment gate refuses: {' '.join(reasons)}",
    )
