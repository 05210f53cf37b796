"""Findings: raised by people or by a scheduled validation run, remediated, judged."""

from __future__ import annotations

from datetime import date, timedelta

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone

from apps.accounts.models import User
from apps.audit.actions import Action
from apps.audit.services import audit_record, changes_between
from apps.core.permissions import require
from apps.core.unset import UNSET, Unset
from apps.notifications.choices import Event
from apps.notifications.services import announce
from apps.projects import permissions as can
from apps.projects.choices import JUDGE_TEAMS, ProjectRole
from apps.projects.selectors import project_people
from apps.registry.models import ModelVersion, RegisteredModel
from apps.validation.models import ValidationRun
from apps.workflows.choices import FindingSeverity, FindingStatus, FindingType
from apps.workflows.models import Finding
from apps.workflows.permissions import finding_judgement_refusal
from apps.workflows.services._common import finding_url

FINDING_FIELDS = ("kind", "severity", "title", "description", "remediation", "due_date", "status")


def finding_raise(
    *,
    actor: User,
    model: RegisteredModel,
    version: ModelVersion | None,
    owner: User,
    kind: str,
    severity: str,
    title: str,
    description: str = "",
    remediation: str = "",
    due_date: date | None = None,
) -> Finding:
    """Raise a finding (validators, compliance, owners). Side effects: ``workflows.finding.raised``.

    Raises PermissionDenied, ValidationError.
    """
    project = model.project
    roles = can.roles_in(actor, project)
    require(
        bool(roles & {ProjectRole.VALIDATOR, ProjectRole.COMPLIANCE, ProjectRole.OWNER}),
        "Validators, compliance and owners raise findings.",
    )
    if version is not None and version.model_id != model.pk:
        raise ValidationError({"version": "The version must belong to the model."})
    if not can.can_view_project(owner, project):
        raise ValidationError({"owner": "The owner must be part of the project."})
    finding = Finding(
        model=model,
        version=version,
        owner=owner,
        raised_by=actor,
        kind=kind,
        severity=severity,
        title=title,
        description=description,
        remediation=remediation,
        due_date=due_date,
    )
    finding.full_clean()
    with transaction.atomic():
        finding.save()
        audit_record(
            actor=actor,
            action=Action.FINDING_RAISED,
            target=finding,
            project=project,
            data={"severity": finding.severity, "kind": finding.kind, "owner": owner.username},
        )
        announce(
            event=Event.FINDING_ASSIGNED,
            title=f"{finding.get_severity_display()} finding on {model.name}: {finding.title}",
            body=finding.description
            + (f"\n\nDue {finding.due_date:%Y-%m-%d}." if finding.due_date else "")
            + f"\nRaised by {actor.get_username()}.",
            recipients=[owner],
            url=finding_url(finding),
            project=project,
            data={"finding": finding.pk, "severity": finding.severity, "kind": finding.kind, "owner": owner.username},
        )
    return finding


def finding_update(
    *,
    actor: User,
    finding: Finding,
    reason: str = "",
    status: str | Unset = UNSET,
    remediation: str | Unset = UNSET,
    due_date: date | None | Unset = UNSET,
    severity: str | Unset = UNSET,
    kind: str | Unset = UNSET,
    title: str | Unset = UNSET,
    description: str | Unset = UNSET,
) -> Finding:
    """Change the given fields of a finding: its owner remediates; validators close; accepting needs compliance.

    Side effects: ``workflows.finding.updated`` with before/after and the reason.
    Raises PermissionDenied, ValidationError.
    """
    given = {
        "status": status,
        "remediation": remediation,
        "due_date": due_date,
        "severity": severity,
        "kind": kind,
        "title": title,
        "description": description,
    }
    fields: dict[str, object] = {name: value for name, value in given.items() if value is not UNSET}
    finding = Finding.objects.select_related("model__project").get(pk=finding.pk)  # its state now
    project = finding.model.project
    roles = can.roles_in(actor, project)
    new_status = fields.get("status")
    if finding.status in (FindingStatus.CLOSED, FindingStatus.ACCEPTED) and new_status is not None:
        raise ValidationError({"status": "A closed or accepted finding stays so; raise a new finding instead."})
    if new_status == FindingStatus.ACCEPTED and finding.kind != FindingType.POLICY_EXCEPTION:
        raise ValidationError(
            {"status": "Only a policy exception can be accepted; remediate and close other findings."}
        )
    if new_status == FindingStatus.ACCEPTED and not reason.strip():
        raise ValidationError({"reason": "Give the justification for accepting this finding."})
    require(
        actor.pk == finding.owner_id or bool(roles & set(JUDGE_TEAMS)),
        "Only the finding's owner, validators and compliance change it.",
    )
    refusal = finding_judgement_refusal(actor, finding, fields)
    if refusal is not None:
        raise PermissionDenied(refusal)
    with transaction.atomic():
        finding = Finding.objects.select_for_update(no_key=True).get(pk=finding.pk)
        before = {f: str(getattr(finding, f)) for f in FINDING_FIELDS}
        for name, value in fields.items():
            setattr(finding, name, value)
        finding.full_clean()
        changes = changes_between(before, {f: str(getattr(finding, f)) for f in FINDING_FIELDS})
        if changes:
            finding.updated_at = timezone.now()
            finding.save()
            audit_record(
                actor=actor,
                action=Action.FINDING_UPDATED,
                target=finding,
                project=project,
                changes=changes,
                data={"reason": reason.strip()},
            )
    return finding


def finding_raise_for_scheduled_run(*, run: ValidationRun, counts: dict[str, int]) -> Finding | None:
    """Raise the finding a scheduled re-validation that failed (or could not run) calls for.

    A run with a failed check raises a high finding (the gate refuses until it is resolved); a run
    that could not run at all (unusable data, a crash, a timeout) or whose checks could only partly
    be evaluated, a medium one: the model is not being watched as it should be. While a finding from
    the same suite and outcome is open on the version, later runs raise no other (the owners still
    hear of each run; a partial unique constraint decides, so two runs finishing at once raise one);
    once it is closed or accepted, the next failure raises a new one. Owned by the project's first
    owner, raised on behalf of the suite's author. Returns None when no new finding was raised.
    Side effects: ``workflows.finding.raised`` (actor "schedule"), ``finding.assigned`` notification.
    """
    suite = run.suite
    assert suite is not None, "only a scheduled run of a stored suite raises a finding"
    version = run.version
    project = version.model.project
    owners = project_people(project, ProjectRole.OWNER)
    owner = owners[0] if owners else suite.created_by  # a project always keeps an owner; this is a fallback
    listed = ", ".join(
        sorted({f"{r.check_name} {r.metric}" + (f" ({r.column or r.attribute})" if r.column or r.attribute else "")
                for r in run.results.filter(status__in=("fail", "error"))})
    )[:1500]  # fmt: skip
    where = f"Run {run.pk} on the latest current data"
    if counts.get("fail", 0):
        outcome, severity = "failed", FindingSeverity.HIGH
        title = f"Scheduled validation failed: {suite.name}"
        errors = f" and could not evaluate {counts['error']}" if counts.get("error") else ""
        description = f"{where} failed {counts['fail']} check(s){errors}: {listed}."
    else:
        outcome, severity = "error", FindingSeverity.MEDIUM
        if run.error:
            title = f"Scheduled validation could not run: {suite.name}"
            description = f"{where} could not run: {run.error}"
        else:
            title = f"Scheduled validation could not evaluate every check: {suite.name}"
            description = f"{where} could not evaluate {counts.get('error', 0)} check(s): {listed}."
    finding = Finding(
        model=version.model,
        version=version,
        kind=FindingType.VALIDATION_ISSUE,
        severity=severity,
        title=title[:200],
        description=description[:4000],
        owner=owner,
        raised_by=suite.created_by,
        source=f"validation-suite:{run.suite_id}:{outcome}",
        due_date=timezone.localdate() + timedelta(days=14),
    )
    try:
        with transaction.atomic():  # a savepoint: the run's transaction goes on either way
            finding.save()
    except IntegrityError as exc:
        if "finding_one_open_per_source" not in str(exc) and "workflows_finding.source" not in str(exc):
            raise  # PostgreSQL names the constraint, SQLite the columns; anything else is not ours to swallow
        return None  # one from this suite and outcome is still open
    audit_record(
        actor=None,
        actor_name="schedule",
        action=Action.FINDING_RAISED,
        target=finding,
        project=project,
        data={"severity": finding.severity, "kind": finding.kind, "owner": owner.username, "run": run.pk},
    )
    announce(
        event=Event.FINDING_ASSIGNED,
        title=f"{finding.get_severity_display()} finding on {version.model.name}: {finding.title}",
        body=finding.description,
        recipients=[owner, *owners],
        url=finding_url(finding),
        project=project,
        data={"finding": finding.pk, "severity": finding.severity, "kind": finding.kind, "run": run.pk},
    )
    return finding


def finding_raise_unapproved(
    *,
    version: ModelVersion,
    raised_by: User,
    actor_name: str,
    source: str,
    title: str,
    description: str,
    actor: User | None = None,
) -> Finding | None:
    """Raise the high ``unapproved_deployment`` finding for something deployed that the gate refuses.

    Signet raises it, not a person: no permission check (the caller decided that what it saw is
    unapproved), ``raised_by`` is the account that made the report, ``actor_name`` names the
    automaton in the trail ("deployment-report", "mlflow"). See ``finding_raise_automatic`` for the
    rest (one per source while open, owner, transaction). Since the finding must outlive a refused
    request, call it after the refused transaction rolled back, not inside it.
    """
    return finding_raise_automatic(
        version=version,
        kind=FindingType.UNAPPROVED_DEPLOYMENT,
        severity=FindingSeverity.HIGH,
        raised_by=raised_by,
        actor_name=actor_name,
        source=source,
        title=title,
        description=description,
        due_days=7,
        actor=actor,
        reported=f"\nReported by {raised_by.get_username()}.",
    )


def finding_raise_automatic(
    *,
    version: ModelVersion,
    kind: str,
    severity: str,
    raised_by: User,
    actor_name: str,
    source: str,
    title: str,
    description: str,
    due_days: int,
    actor: User | None = None,
    reported: str = "",
) -> Finding | None:
    """Raise a finding Signet itself found (an unapproved deployment, a breaching monitor), once per source.

    No permission check: the caller decided what it saw. Owned by the project's first owner. While
    one from the same ``source`` is open (or remediated) on the version, no other is raised: the
    partial unique constraint ``finding_one_open_per_source`` decides, so two callers at once raise
    one, and this returns None. Works inside a caller's transaction (a savepoint: the caller's work
    goes on either way) or outside one (its own transaction).
    Side effects: ``workflows.finding.raised`` (by ``actor``, None for Signet itself, named ``actor_name``),
    a ``finding.assigned`` notification to the project's owners, validators and compliance people.
    """
    model = version.model
    project = model.project
    owners = project_people(project, ProjectRole.OWNER)
    owner = owners[0] if owners else raised_by  # a project always keeps an owner; this is a fallback
    finding = Finding(
        model=model,
        version=version,
        kind=kind,
        severity=severity,
        title=title[:200],
        description=description[:4000],
        owner=owner,
        raised_by=raised_by,
        source=source[:80],
        due_date=timezone.localdate() + timedelta(days=due_days),
    )
    with transaction.atomic():  # its own transaction outside a caller's, a savepoint inside one
        try:
            with transaction.atomic():  # a savepoint: the duplicate's IntegrityError leaves the rest usable
                finding.save()
        except IntegrityError as exc:
            if "finding_one_open_per_source" not in str(exc) and "workflows_finding.source" not in str(exc):
                raise  # PostgreSQL names the constraint, SQLite the columns; anything else is not ours to swallow
            return None  # one from this source is still open on the version
        audit_record(
            actor=actor,
            actor_name=actor_name,
            action=Action.FINDING_RAISED,
            target=finding,
            project=project,
            data={
                "severity": finding.severity,
                "kind": finding.kind,
                "owner": owner.username,
                "source": finding.source,
                "reported_by": raised_by.get_username(),
            },
        )
        announce(
            event=Event.FINDING_ASSIGNED,
            title=f"{finding.get_severity_display()} finding on {model.name}: {finding.title}",
            body=finding.description + reported,
            recipients=[
                owner,
                *project_people(project, ProjectRole.OWNER, ProjectRole.VALIDATOR, ProjectRole.COMPLIANCE),
            ],
            url=finding_url(finding),
            project=project,
            data={"finding": finding.pk, "severity": finding.severity, "kind": finding.kind, "source": finding.source},
        )
    return finding
