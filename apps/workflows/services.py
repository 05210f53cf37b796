"""Submitting versions for review, deciding, findings, deployments and the deployment gate.

Every change checks permission and segregation of duties here (not only in pages), writes its
audit event, and happens in one transaction that locks the review it changes.
"""

from __future__ import annotations

import copy
import hashlib
import json
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.urls import reverse
from django.utils import timezone

from apps.accounts.models import User
from apps.audit.services import audit_record, changes_between
from apps.core.permissions import require
from apps.notifications.choices import Event
from apps.notifications.services import announce
from apps.projects import permissions as can
from apps.projects.choices import JUDGE_TEAMS, ProjectRole
from apps.projects.selectors import project_people
from apps.registry.cards import card_completeness
from apps.registry.choices import VersionStatus
from apps.registry.models import ModelCard, ModelVersion, RegisteredModel
from apps.workflows.choices import (
    BLOCKING_SEVERITIES,
    DecisionKind,
    FindingSeverity,
    FindingStatus,
    FindingType,
    ReviewKind,
    ReviewStatus,
)
from apps.workflows.models import ApprovalPolicy, Decision, Delegation, Deployment, Finding, Review
from apps.workflows.permissions import can_edit_policies, can_retire, finding_judgement_refusal, sign_off_refusal
from apps.workflows.policies import DEFAULT_POLICIES


def evidence_digest(version: ModelVersion) -> str:
    """Hash of what a reviewer signs: the artifact, the model card revision, the validation runs."""
    from apps.validation.choices import RunStatus
    from apps.validation.models import ValidationRun

    card = ModelCard.objects.only("revision").get(version=version)
    # Failed runs are evidence against the version: one that fails after approval makes it stale.
    failed = sorted(ValidationRun.objects.filter(version=version, status=RunStatus.FAILED).values_list("pk", flat=True))
    evidence = {"artifact_sha256": version.artifact_sha256, "card_revision": card.revision, "validation_runs": failed}
    return hashlib.sha256(json.dumps(evidence, sort_keys=True, separators=(",", ":")).encode()).hexdigest()


def policy_in_force(tier: str) -> ApprovalPolicy:
    """The policy in force for a tier (an unqualified project follows the high tier). Reads only.

    An emptied database that lost the defaults gets an unsaved copy of them here; the first review
    that needs the row creates it (``_policy_saved``), so a GET never writes.
    """
    tier = tier or "high"
    policy = ApprovalPolicy.objects.filter(tier=tier, is_current=True).first()
    return policy or ApprovalPolicy(tier=tier, version=1, is_current=True, **copy.deepcopy(DEFAULT_POLICIES[tier]))


def _policy_saved(tier: str) -> ApprovalPolicy:
    """The policy in force as a row, created (and audited) from the defaults if it is missing."""
    policy = policy_in_force(tier)
    if policy.pk is None:
        with transaction.atomic():
            policy, created = ApprovalPolicy.objects.get_or_create(
                tier=policy.tier, version=1, defaults={**DEFAULT_POLICIES[policy.tier], "is_current": True}
            )
            if created:
                audit_record(actor=None, action="workflows.policy.created", target=policy, data={"tier": policy.tier})
    return policy


def version_submit(*, actor: User, version: ModelVersion) -> Review:
    """Submit a version for review; its policy is snapshotted into a new review cycle.

    Needs a complete model card for the project's tier. Side effects: the version moves to
    in_review; events ``registry.model_version.submitted`` and ``workflows.review.opened``.
    Raises PermissionDenied, ValidationError.
    """
    project = version.model.project
    require(can.can_build(actor, project), "Only the project's owners and developers submit versions.")
    with transaction.atomic():
        version = (
            ModelVersion.objects.select_for_update(of=("self",), no_key=True)
            .select_related("model__project", "card")
            .get(pk=version.pk)
        )
        if Review.objects.filter(version=version, status=ReviewStatus.OPEN).exists():
            raise ValidationError({"status": "A review of this version is already open; decide it first."})
        # An approved or deployed version comes back for review when its approval went stale or expired.
        renewal = version.status in (VersionStatus.APPROVED, VersionStatus.DEPLOYED) and not _approval_current(version)
        if version.status not in (VersionStatus.DRAFT, VersionStatus.CHANGES_REQUESTED) and not renewal:
            raise ValidationError(
                {"status": f"A version that is {version.get_status_display().lower()} cannot be submitted."}
            )
        done = card_completeness(version.card, project.risk_tier)
        if not done.complete:
            raise ValidationError(
                {"card": f"Complete the model card first; still to write: {', '.join(done.missing_titles)}."}
            )
        _require_passing_run(version)
        review = _review_open(version, submitted_by=actor, kind=ReviewKind.SUBMISSION)
        cycle = review.cycle
        policy = review.policy
        before = version.status
        # A deployed version renewing its approval keeps serving (as in a re-certification); the gate
        # refuses it anyway until the new review approves, because its approval is stale or expired.
        if version.status != VersionStatus.DEPLOYED:
            version.status = VersionStatus.IN_REVIEW
            version.save(update_fields=["status"])
        audit_record(
            actor=actor,
            action="registry.model_version.submitted",
            target=version,
            project=project,
            changes=changes_between({"status": before}, {"status": version.status}),
            data={"review": review.pk, "cycle": cycle, "evidence_digest": evidence_digest(version)},
        )
        audit_record(
            actor=actor,
            action="workflows.review.opened",
            target=review,
            project=project,
            data={"policy": str(policy), "stages": [s["key"] for s in policy.stages]},
        )
        _announce_waiting(review, [s["key"] for s in review.stages])
    return review


def _require_passing_run(version: ModelVersion) -> None:
    """Where the tier's policy says so, the latest finished validation run of the version must pass."""
    from apps.validation.choices import RunStatus
    from apps.validation.models import ValidationRun

    if not policy_in_force(version.model.project.risk_tier).requires_validation:
        return
    # Only a run of the standard suite or of a suite stored for the project counts: an ad-hoc suite of
    # one trivial check would otherwise satisfy the policy.
    counted = ValidationRun.objects.filter(version=version, status__in=(RunStatus.SUCCEEDED, RunStatus.FAILED)).filter(
        Q(suite__isnull=False) | Q(spec__checks="standard")
    )
    latest = counted.order_by("-finished_at", "-pk").first()
    if latest is None or latest.status != RunStatus.SUCCEEDED or latest.outcome not in ("pass", "warn"):
        raise ValidationError(
            {
                "validation": "This tier's policy needs a passing validation run of this version, with the standard "
                "suite or a suite stored for the project, before it is submitted."
            }
        )


def _review_open(version: ModelVersion, *, submitted_by: User | None, kind: str) -> Review:
    """Open the next review cycle of ``version`` with a snapshot of its tier's policy in force."""
    policy = _policy_saved(version.model.project.risk_tier)
    return Review.objects.create(
        version=version,
        cycle=Review.objects.filter(version=version).count() + 1,
        policy=policy,
        stages=policy.stages,
        review_period_days=policy.review_period_days,
        grace_days=policy.grace_days,
        kind=kind,
        submitted_by=submitted_by,
    )


def eligible_signers(review: Review, stage: dict[str, Any], digest: str) -> list[User]:
    """The project's people who may sign ``stage`` of ``review`` now (``digest``: the version's evidence)."""
    candidates = project_people(review.version.model.project, *(stage.get("project_roles") or []))
    return [person for person in candidates if sign_off_refusal(person, review, stage, digest) is None]


def _review_url(review: Review) -> str:
    return reverse("workflows:review_detail", kwargs={"review_id": review.pk})


def _announce_waiting(review: Review, stage_keys: list[str]) -> None:
    """Tell whoever may sign the newly opened stages that the review waits for them."""
    version = review.version
    label = f"{version.model.name} v{version.number}"
    digest = evidence_digest(version)
    for stage in open_stages(review, digest):
        if stage["key"] not in stage_keys:
            continue
        what = "re-certification" if review.kind == ReviewKind.RECERTIFICATION else "review"
        announce(
            event=Event.REVIEW_WAITING,
            title=f"{label} waits for your {stage['name'].lower()} ({what} {review.cycle})",
            body=f"The {what} of {label} in {version.model.project.name} waits for a decision you may take.",
            recipients=eligible_signers(review, stage, digest),
            url=_review_url(review),
            project=version.model.project,
            data={"review": review.pk, "version": version.pk, "stage": stage["key"], "kind": review.kind},
        )


@dataclass
class StageState:
    key: str
    name: str
    quorum: int
    approvals: list[Decision] = field(default_factory=list)

    @property
    def passed(self) -> bool:
        return len(self.approvals) >= self.quorum


def stage_states(review: Review, digest: str) -> list[StageState]:
    """Each stage with the approvals that count: distinct people, on the current evidence."""
    states = [StageState(s["key"], s["name"], int(s["quorum"])) for s in review.stages]
    by_key = {state.key: state for state in states}
    for decision in review.decisions.all():
        if decision.kind == DecisionKind.APPROVE and decision.evidence_digest == digest and decision.stage in by_key:
            by_key[decision.stage].approvals.append(decision)
    return states


def open_stages(review: Review, digest: str) -> list[dict[str, Any]]:
    """The stages that may be signed now: the first not yet passed, with any later stages marked
    ``parallel`` that directly follow it (a parallel stage runs alongside the one before it)."""
    pending = [
        stage for stage, state in zip(review.stages, stage_states(review, digest), strict=True) if not state.passed
    ]
    if not pending:
        return []
    first = review.stages.index(pending[0])
    open_now = [pending[0]]
    for stage in review.stages[first + 1 :]:
        if not stage.get("parallel"):
            break
        if stage in pending:
            open_now.append(stage)
    return open_now


def active_stage(review: Review, digest: str) -> dict[str, Any] | None:
    """The first stage not yet passed (stages are signed in order unless marked parallel)."""
    stages = open_stages(review, digest)
    return stages[0] if stages else None


def stage_for(user: Any, review: Review, digest: str) -> tuple[dict[str, Any] | None, str | None]:
    """The open stage ``user`` may sign, or the reason why none (from the first open stage)."""
    stages = open_stages(review, digest)
    if not stages:
        return None, "Every stage is already signed."
    refusals = [sign_off_refusal(user, review, stage, digest) for stage in stages]
    for stage, refusal in zip(stages, refusals, strict=True):
        if refusal is None:
            return stage, None
    return None, refusals[0]


def review_decide(*, actor: User, review: Review, kind: str, comment: str = "", evidence_digest_seen: str) -> Decision:
    """Record a decision on the review's current stage.

    Approve counts toward the stage's quorum; reject rejects the review and the version;
    request_changes sends the version back. Refused, with a reason the person can read, to anyone
    segregation of duties excludes. Side effects: ``workflows.decision.recorded`` and, when the
    review closes, ``workflows.review.closed`` and the version's new status.
    Raises PermissionDenied, ValidationError.
    """
    if kind not in DecisionKind.values:
        raise ValidationError({"kind": "Choose approve, reject or request_changes."})
    comment = comment.strip()
    if kind != DecisionKind.APPROVE and not comment:
        raise ValidationError({"comment": "Say why: the developer needs to know what to change."})
    with transaction.atomic():
        # Closing the review writes its version: lock the version first, as every service does (0015).
        ModelVersion.objects.select_for_update(no_key=True).filter(pk=review.version_id).first()
        review = (
            Review.objects.select_for_update(of=("self",), no_key=True)
            .select_related("version__model__project")
            .get(pk=review.pk)
        )
        version = review.version
        project = version.model.project
        require(can.can_view_project(actor, project), "You cannot see this project.")
        if review.status != ReviewStatus.OPEN:
            raise ValidationError({"review": f"This review is already {review.get_status_display().lower()}."})
        digest = evidence_digest(version)
        if evidence_digest_seen != digest:
            raise ValidationError(
                {"evidence_digest": "The evidence changed since you opened it; reload and look again."}
            )
        stage, refusal = stage_for(actor, review, digest)
        if stage is None:
            raise PermissionDenied(refusal)
        if kind == DecisionKind.APPROVE and _blocking_findings(version):
            raise ValidationError(
                {"kind": "Open high or critical findings block approval; resolve or accept them first."}
            )
        open_before = {s["key"] for s in open_stages(review, digest)}
        try:
            with transaction.atomic():
                decision = Decision.objects.create(
                    review=review, stage=stage["key"], decider=actor, kind=kind, comment=comment, evidence_digest=digest
                )
        except IntegrityError:
            raise PermissionDenied("You have already decided on this review; one person fills one place.") from None
        audit_record(
            actor=actor,
            action="workflows.decision.recorded",
            target=review,
            project=project,
            data={"stage": stage["key"], "kind": kind, "comment": comment, "evidence_digest": digest},
        )
        label = f"{version.model.name} v{version.number}"
        announce(
            event=Event.REVIEW_DECIDED,
            title=f"{actor.get_username()}: {DecisionKind(kind).label.lower()} on {label} ({stage['name']})",
            body=comment,
            recipients=[review.submitted_by, version.created_by],
            url=_review_url(review),
            project=project,
            data={
                "review": review.pk,
                "version": version.pk,
                "stage": stage["key"],
                "kind": kind,
                "decider": actor.get_username(),
            },
        )
        _close_if_decided(actor, review, version, kind, digest)
        if review.status == ReviewStatus.OPEN:
            _announce_waiting(review, [s["key"] for s in open_stages(review, digest) if s["key"] not in open_before])
    return decision


def _approval_current(version: ModelVersion) -> bool:
    """Whether the latest approval still covers this version: same evidence, not expired."""
    review = Review.objects.filter(version=version, status=ReviewStatus.APPROVED).order_by("-cycle").first()
    if review is None:
        return False
    expired = review.expires_at is not None and review.expires_at <= timezone.now()
    return review.approved_digest == evidence_digest(version) and not expired


def _blocking_findings(version: ModelVersion) -> bool:
    """High or critical findings on the version, or on its model as a whole, that nobody independent
    has closed or accepted yet (a remediation by its owner still waits for a validator's check)."""
    return (
        Finding.objects.filter(Q(version=version) | Q(version=None, model_id=version.model_id))
        .filter(status__in=(FindingStatus.OPEN, FindingStatus.REMEDIATED), severity__in=BLOCKING_SEVERITIES)
        .exists()
    )


def _close_if_decided(actor: User, review: Review, version: ModelVersion, kind: str, digest: str) -> None:
    outcome = {
        DecisionKind.REJECT: (ReviewStatus.REJECTED, VersionStatus.REJECTED),
        DecisionKind.REQUEST_CHANGES: (ReviewStatus.CHANGES_REQUESTED, VersionStatus.CHANGES_REQUESTED),
    }.get(kind)  # type: ignore[call-overload]
    if outcome is None:
        if active_stage(review, digest) is not None:
            return
        outcome = (ReviewStatus.APPROVED, VersionStatus.APPROVED)
    review_status, version_status = outcome
    if review_status == ReviewStatus.APPROVED and version.status == VersionStatus.DEPLOYED:
        version_status = VersionStatus.DEPLOYED  # re-certified while serving: it stays deployed
    now = timezone.now()
    review.status = review_status
    review.closed_at = now
    if review_status == ReviewStatus.APPROVED:
        review.approved_digest = digest
        review.expires_at = now + timedelta(days=review.review_period_days)
    review.save()
    before = version.status
    version.status = version_status
    version.save(update_fields=["status"])
    audit_record(
        actor=actor,
        action="workflows.review.closed",
        target=review,
        project=version.model.project,
        changes=changes_between({"version_status": before}, {"version_status": version_status}),
        data={"outcome": review_status, "evidence_digest": digest},
    )
    project = version.model.project
    announce(
        event=Event.REVIEW_CLOSED,
        title=f"{version.model.name} v{version.number}: {ReviewStatus(review_status).label.lower()}",
        body=f"Review {review.cycle} of {version.model.name} v{version.number} in {project.name} closed.",
        recipients=[review.submitted_by, version.created_by, *project_people(project, ProjectRole.OWNER)],
        url=_review_url(review),
        project=project,
        data={"review": review.pk, "version": version.pk, "outcome": review_status, "kind": review.kind},
    )


def review_delegate(*, actor: User, review: Review, to_user: User, reason: str = "") -> Delegation:
    """Hand one's pending decision to another person who may sign the same stage.

    Side effects: the actor can no longer decide on this review; ``workflows.review.delegated``.
    Raises PermissionDenied (the actor may not sign now), ValidationError (the delegate may not).
    """
    with transaction.atomic():
        review = (
            Review.objects.select_for_update(of=("self",), no_key=True)
            .select_related("version__model__project")
            .get(pk=review.pk)
        )
        if review.status != ReviewStatus.OPEN:
            raise ValidationError({"review": f"This review is already {review.get_status_display().lower()}."})
        digest = evidence_digest(review.version)
        stage, refusal = stage_for(actor, review, digest)
        if stage is None:
            raise PermissionDenied(refusal)
        if to_user.pk == actor.pk:
            raise ValidationError({"to_user": "Delegate to someone else."})
        delegate_refusal = sign_off_refusal(to_user, review, stage, digest)
        if delegate_refusal is not None:
            raise ValidationError({"to_user": f"{to_user.username} cannot sign this stage: {delegate_refusal}"})
        delegation = Delegation.objects.create(
            review=review, stage=stage["key"], from_user=actor, to_user=to_user, reason=reason.strip()
        )
        audit_record(
            actor=actor,
            action="workflows.review.delegated",
            target=review,
            project=review.version.model.project,
            data={"stage": stage["key"], "to": to_user.username, "reason": reason.strip()},
        )
        version = review.version
        announce(
            event=Event.REVIEW_WAITING,
            title=f"{actor.get_username()} handed you the {stage['name'].lower()} of "
            f"{version.model.name} v{version.number}",
            body=reason.strip(),
            recipients=[to_user],
            url=_review_url(review),
            project=version.model.project,
            data={
                "review": review.pk,
                "version": version.pk,
                "stage": stage["key"],
                "delegated_by": actor.get_username(),
            },
        )
    return delegation


@dataclass(frozen=True)
class GateAnswer:
    allowed: bool
    reasons: list[str]


def gate_check(*, version: ModelVersion, environment: str) -> GateAnswer:
    """May ``version`` be deployed to ``environment``? Reasons in words a pipeline log can show."""
    version = ModelVersion.objects.select_related("model").get(pk=version.pk)  # the state now, not a stale copy
    label = f"{version.model.name} v{version.number}"
    if version.status not in (VersionStatus.APPROVED, VersionStatus.DEPLOYED):
        return GateAnswer(False, [f"{label} is {version.get_status_display().lower()}, not approved."])
    review = Review.objects.filter(version=version, status=ReviewStatus.APPROVED).order_by("-cycle").first()
    if review is None:  # pragma: no cover - approved versions have an approved review
        return GateAnswer(False, [f"{label} has no approved review."])
    reasons, notes = [], []
    if review.approved_digest != evidence_digest(version):
        reasons.append(f"The approval of {label} is stale: its evidence changed after approval; it needs a new review.")
    now = timezone.now()
    if review.expires_at and review.expires_at <= now:
        grace_end = review.expires_at + timedelta(days=review.grace_days)
        if grace_end <= now:
            reasons.append(
                f"The approval of {label} expired on {review.expires_at:%Y-%m-%d}; it needs re-certification."
            )
        else:
            notes.append(
                f"The approval expired on {review.expires_at:%Y-%m-%d}; the policy's grace period allows deployment "
                f"until {grace_end:%Y-%m-%d %H:%M} UTC while re-certification runs."
            )
    if _blocking_findings(version):
        reasons.append(f"{label} has open high or critical findings.")
    if reasons:
        return GateAnswer(False, reasons)
    return GateAnswer(True, [f"{label} is approved (review {review.cycle}) for deployment to {environment}.", *notes])


def deployment_record(*, actor: User, version: ModelVersion, environment: str, notes: str = "") -> Deployment:
    """Record a deployment by IT operations; refused unless the gate allows it.

    Side effects: the version becomes deployed; ``workflows.deployment.recorded``.
    """
    project = version.model.project
    require(ProjectRole.IT_OPS in can.roles_in(actor, project), "Only the project's IT operations record deployments.")
    with transaction.atomic():
        version = (
            ModelVersion.objects.select_for_update(of=("self",), no_key=True)
            .select_related("model__project")
            .get(pk=version.pk)
        )
        answer = gate_check(version=version, environment=environment)
        if not answer.allowed:
            raise ValidationError({"version": answer.reasons})
        deployment = Deployment(version=version, environment=environment, deployed_by=actor, notes=notes.strip())
        deployment.full_clean()
        deployment.save()
        _version_move(
            actor, version, VersionStatus.DEPLOYED, "workflows.deployment.recorded", {"environment": environment}
        )
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


def _version_move(actor: User, version: ModelVersion, status: str, action: str, data: dict[str, Any]) -> None:
    """Set a locked version's status and write the audit event of the move, in the caller's transaction."""
    before = version.status
    version.status = status
    version.save(update_fields=["status"])
    audit_record(
        actor=actor,
        action=action,
        target=version,
        project=version.model.project,
        changes=changes_between({"status": before}, {"status": status}),
        data=data,
    )


def version_retire(*, actor: User, version: ModelVersion, reason: str) -> ModelVersion:
    """Retire a version: it leaves service and the gate refuses it from now on (owners and IT operations).

    An open re-certification is withdrawn with it; a version under a submission review is decided first.
    Side effects: ``registry.model_version.retired``, ``workflows.review.withdrawn`` where one was open.
    Raises PermissionDenied, ValidationError.
    """
    project = version.model.project
    require(
        can_retire(actor, project),
        "Only the project's owners and IT operations retire versions.",
    )
    reason = reason.strip()
    if not reason or "\x00" in reason:
        raise ValidationError({"reason": "Say why the version is retired; the record keeps it."})
    with transaction.atomic():
        version = (
            ModelVersion.objects.select_for_update(of=("self",), no_key=True)
            .select_related("model__project")
            .get(pk=version.pk)
        )
        if version.status in (VersionStatus.RETIRED, VersionStatus.IN_REVIEW):
            raise ValidationError(
                {"status": f"A version that is {version.get_status_display().lower()} cannot be retired."}
            )
        open_reviews = list(
            Review.objects.select_for_update(no_key=True).filter(version=version, status=ReviewStatus.OPEN)
        )
        if any(review.kind == ReviewKind.SUBMISSION for review in open_reviews):
            # A deployed version renewing its approval stays "deployed" while the submission is reviewed.
            raise ValidationError(
                {"status": "A version under a submission review cannot be retired until it is decided."}
            )
        for review in open_reviews:
            review.status, review.closed_at = ReviewStatus.WITHDRAWN, timezone.now()
            review.save(update_fields=["status", "closed_at"])
            audit_record(
                actor=actor,
                action="workflows.review.withdrawn",
                target=review,
                project=project,
                data={"reason": reason},
            )
        _version_move(actor, version, VersionStatus.RETIRED, "registry.model_version.retired", {"reason": reason})
        announce(
            event=Event.VERSION_RETIRED,
            title=f"{version.model.name} v{version.number} was retired",
            body=reason,
            recipients=[version.created_by, *project_people(project, ProjectRole.OWNER, ProjectRole.IT_OPS)],
            url=reverse("registry:version_detail", kwargs={"version_id": version.pk}),
            project=project,
            data={"version": version.pk, "model": version.model.name, "number": version.number, "reason": reason},
        )
    return version


FINDING_FIELDS = ("kind", "severity", "title", "description", "remediation", "due_date", "status")


def finding_raise(
    *, actor: User, model: RegisteredModel, version: ModelVersion | None, owner: User, **fields: Any
) -> Finding:
    """Raise a finding (validators, compliance, owners). Side effects: ``workflows.finding.raised``."""
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
    finding = Finding(model=model, version=version, owner=owner, raised_by=actor, **fields)
    finding.full_clean()
    with transaction.atomic():
        finding.save()
        audit_record(
            actor=actor,
            action="workflows.finding.raised",
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
            url=_finding_url(finding),
            project=project,
            data={"finding": finding.pk, "severity": finding.severity, "kind": finding.kind, "owner": owner.username},
        )
    return finding


def _finding_url(finding: Finding) -> str:
    if finding.version_id is not None:
        return reverse("registry:version_detail", kwargs={"version_id": finding.version_id}) + f"#finding-{finding.pk}"
    return reverse("registry:model_detail", kwargs={"model_id": finding.model_id}) + f"#finding-{finding.pk}"


def finding_update(*, actor: User, finding: Finding, reason: str = "", **fields: Any) -> Finding:
    """Change a finding: its owner remediates; validators close; accepting needs compliance.

    Side effects: ``workflows.finding.updated`` with before/after and the reason.
    """
    finding = Finding.objects.select_related("model__project").get(pk=finding.pk)  # its state now
    project = finding.model.project
    roles = can.roles_in(actor, project)
    unknown = set(fields) - set(FINDING_FIELDS)
    if unknown:
        raise ValueError(f"finding_update cannot change {sorted(unknown)}")
    status = fields.get("status")
    if finding.status in (FindingStatus.CLOSED, FindingStatus.ACCEPTED) and status is not None:
        raise ValidationError({"status": "A closed or accepted finding stays so; raise a new finding instead."})
    if status == FindingStatus.ACCEPTED and finding.kind != FindingType.POLICY_EXCEPTION:
        raise ValidationError(
            {"status": "Only a policy exception can be accepted; remediate and close other findings."}
        )
    if status == FindingStatus.ACCEPTED and not reason.strip():
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
                action="workflows.finding.updated",
                target=finding,
                project=project,
                changes=changes,
                data={"reason": reason.strip()},
            )
    return finding


STAGE_KEYS = {"key", "name", "project_roles", "team", "independent", "quorum", "parallel"}


def _validate_stages(stages: Any) -> list[dict[str, Any]]:
    from apps.accounts.choices import TeamFunction

    if not isinstance(stages, list) or not stages:
        raise ValidationError({"stages": "Give at least one stage, as a list."})
    clean, keys = [], set()
    for position, stage in enumerate(stages, start=1):
        where = f"Stage {position}"
        if not isinstance(stage, dict) or set(stage) - STAGE_KEYS:
            raise ValidationError({"stages": f"{where}: use only the fields {', '.join(sorted(STAGE_KEYS))}."})
        key, roles, quorum = stage.get("key"), stage.get("project_roles"), stage.get("quorum")
        if not isinstance(key, str) or not key.isidentifier() or key in keys:
            raise ValidationError({"stages": f"{where}: give a unique key of letters, digits and underscores."})
        if not isinstance(roles, list) or not roles or any(r not in ProjectRole.values for r in roles):
            raise ValidationError({"stages": f"{where}: project_roles must list project roles."})
        if isinstance(quorum, bool) or not isinstance(quorum, int) or not 1 <= quorum <= 10:
            raise ValidationError({"stages": f"{where}: the quorum is a whole number from 1 to 10."})
        if not isinstance(stage.get("name", ""), str) or "\x00" in str(stage.get("name", "")):
            raise ValidationError({"stages": f"{where}: the name is plain text."})
        if any(not isinstance(stage.get(flag, False), bool) for flag in ("independent", "parallel")):
            raise ValidationError({"stages": f"{where}: independent and parallel are true or false."})
        team = stage.get("team")
        if team is not None and team not in TeamFunction.values:
            raise ValidationError({"stages": f"{where}: unknown team function {str(team)[:40]!r}."})
        if position == 1 and stage.get("parallel"):
            raise ValidationError({"stages": "The first stage cannot run in parallel with a stage before it."})
        keys.add(key)
        clean.append({**stage, "name": str(stage.get("name") or key)[:100]})
    return clean


def policy_publish(
    *,
    actor: User,
    tier: str,
    stages: Any,
    review_period_days: int,
    grace_days: int | None = None,
    requires_validation: bool | None = None,
    base_version: int | None = None,
) -> ApprovalPolicy:
    """Publish a new version of a tier's policy (administrators and compliance; audited).

    Reviews already open keep the stages they opened with. Side effects: the previous version stops
    being current; ``workflows.policy.published`` with before/after stages.
    """
    require(can_edit_policies(actor), "Only administrators and compliance change approval policies.")
    if tier not in ("high", "medium", "low"):
        raise ValidationError({"tier": "Choose high, medium or low."})
    if not isinstance(review_period_days, int) or not 30 <= review_period_days <= 3650:
        raise ValidationError({"review_period_days": "Approvals last between 30 and 3,650 days."})
    if grace_days is not None and (
        isinstance(grace_days, bool) or not isinstance(grace_days, int) or not 0 <= grace_days <= 90
    ):
        raise ValidationError({"grace_days": "The grace period is a whole number of days from 0 to 90."})
    clean = _validate_stages(stages)
    with transaction.atomic():
        _policy_saved(tier)  # creates the defaults if an emptied database lost them
        # One publisher at a time: lock the tier's current row, then read it again under the lock.
        previous = (
            ApprovalPolicy.objects.select_for_update(no_key=True)
            .filter(tier=tier, is_current=True)
            .order_by("-version")[0]
        )
        if base_version is not None and base_version != previous.version:
            raise ValidationError(
                {"stages": f"Someone published version {previous.version} meanwhile; reload the page and edit that."}
            )
        grace = previous.grace_days if grace_days is None else grace_days
        needs_run = previous.requires_validation if requires_validation is None else requires_validation
        if not isinstance(needs_run, bool):
            raise ValidationError({"requires_validation": "Say true or false."})
        ApprovalPolicy.objects.filter(pk=previous.pk).update(is_current=False)
        policy = ApprovalPolicy.objects.create(
            tier=tier,
            version=previous.version + 1,
            stages=clean,
            review_period_days=review_period_days,
            grace_days=grace,
            requires_validation=needs_run,
            is_current=True,
        )
        audit_record(
            actor=actor,
            action="workflows.policy.published",
            target=policy,
            changes=changes_between(
                {
                    "stages": previous.stages,
                    "review_period_days": previous.review_period_days,
                    "grace_days": previous.grace_days,
                    "requires_validation": previous.requires_validation,
                },
                {
                    "stages": clean,
                    "review_period_days": review_period_days,
                    "grace_days": grace,
                    "requires_validation": needs_run,
                },
            ),
            data={"tier": tier, "version": policy.version},
        )
    return policy


def workflow_reminders(*, now: Any = None) -> dict[str, int]:
    """Open re-certifications that come due, remind before and after expiry, flag overdue findings.

    Idempotent (the beat runs it hourly): each reminder goes once per approval or finding.
    Side effects: re-certification reviews (``workflows.review.opened`` by the schedule) and notifications.
    """
    now = now or timezone.now()
    counts = {"recertifications_opened": 0, "due": 0, "expired": 0, "findings_overdue": 0}
    from apps.workflows.selectors import approvals_coming_due

    for approval in approvals_coming_due(Review.objects.select_related("version__model__project"), now):
        with transaction.atomic():
            version = ModelVersion.objects.select_for_update(of=("self",), no_key=True).get(pk=approval.version_id)
            latest = Review.objects.filter(version=version, status=ReviewStatus.APPROVED).order_by("-cycle").first()
            if (
                latest is None
                or latest.pk != approval.pk
                or version.status not in (VersionStatus.APPROVED, VersionStatus.DEPLOYED)
            ):
                continue
            project = approval.version.model.project
            label = f"{approval.version.model.name} v{approval.version.number}"
            recert = Review.objects.filter(version=version, status=ReviewStatus.OPEN).first()
            if recert is None:
                recert = _review_open(approval.version, submitted_by=None, kind=ReviewKind.RECERTIFICATION)
                audit_record(
                    actor=None,
                    actor_name="schedule",
                    action="workflows.review.opened",
                    target=recert,
                    project=project,
                    data={
                        "kind": ReviewKind.RECERTIFICATION,
                        "expires_at": approval.expires_at,
                        "stages": [s["key"] for s in recert.stages],
                    },
                )
                _announce_waiting(recert, [s["key"] for s in recert.stages])
                counts["recertifications_opened"] += 1
            owners = project_people(project, ProjectRole.OWNER, ProjectRole.BUSINESS_OWNER)
            assert approval.expires_at is not None
            data = {"version": version.pk, "review": recert.pk, "expires_at": approval.expires_at.isoformat()}
            if approval.expires_at > now:
                counts["due"] += bool(
                    announce(
                        event=Event.RECERTIFICATION_DUE,
                        title=f"{label} needs re-certification by {approval.expires_at:%Y-%m-%d}",
                        body=f"Its approval expires on {approval.expires_at:%Y-%m-%d}. Review {recert.cycle} is open.",
                        recipients=owners,
                        url=_review_url(recert),
                        project=project,
                        data=data,
                        dedupe_key=f"recert-due:{approval.pk}",
                    )
                )
            else:
                grace_end = approval.expires_at + timedelta(days=approval.grace_days)
                counts["expired"] += bool(
                    announce(
                        event=Event.RECERTIFICATION_OVERDUE,
                        title=f"The approval of {label} expired on {approval.expires_at:%Y-%m-%d}",
                        body=(
                            f"The deployment gate refuses it from {grace_end:%Y-%m-%d %H:%M} UTC until review "
                            f"{recert.cycle} re-certifies it."
                        ),
                        recipients=[*owners, *project_people(project, ProjectRole.IT_OPS)],
                        url=_review_url(recert),
                        project=project,
                        data=data,
                        dedupe_key=f"recert-expired:{approval.pk}",
                    )
                )
    overdue = Finding.objects.filter(status=FindingStatus.OPEN, due_date__lt=now.date()).select_related(
        "model__project", "owner"
    )
    for finding in overdue:
        with transaction.atomic():
            counts["findings_overdue"] += bool(
                announce(
                    event=Event.FINDING_OVERDUE,
                    title=f"Overdue finding on {finding.model.name}: {finding.title}",
                    body=f"It was due on {finding.due_date:%Y-%m-%d}; remediate it or agree a new date.",
                    recipients=[finding.owner],
                    url=_finding_url(finding),
                    project=finding.model.project,
                    data={"finding": finding.pk, "severity": finding.severity, "due_date": str(finding.due_date)},
                    dedupe_key=f"finding-overdue:{finding.pk}:{finding.due_date}",
                )
            )
    return counts


def finding_raise_for_scheduled_run(*, run: Any, counts: dict[str, int]) -> Finding | None:
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
    version = run.version
    project = version.model.project
    owners = project_people(project, ProjectRole.OWNER)
    owner = owners[0] if owners else run.suite.created_by  # a project always keeps an owner; this is a fallback
    listed = ", ".join(
        sorted({f"{r.check_name} {r.metric}" + (f" ({r.column or r.attribute})" if r.column or r.attribute else "")
                for r in run.results.filter(status__in=("fail", "error"))})
    )[:1500]  # fmt: skip
    where = f"Run {run.pk} on the latest current data"
    if counts.get("fail", 0):
        outcome, severity = "failed", FindingSeverity.HIGH
        title = f"Scheduled validation failed: {run.suite.name}"
        errors = f" and could not evaluate {counts['error']}" if counts.get("error") else ""
        description = f"{where} failed {counts['fail']} check(s){errors}: {listed}."
    else:
        outcome, severity = "error", FindingSeverity.MEDIUM
        if run.error:
            title = f"Scheduled validation could not run: {run.suite.name}"
            description = f"{where} could not run: {run.error}"
        else:
            title = f"Scheduled validation could not evaluate every check: {run.suite.name}"
            description = f"{where} could not evaluate {counts.get('error', 0)} check(s): {listed}."
    finding = Finding(
        model=version.model,
        version=version,
        kind=FindingType.VALIDATION_ISSUE,
        severity=severity,
        title=title[:200],
        description=description[:4000],
        owner=owner,
        raised_by=run.suite.created_by,
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
        action="workflows.finding.raised",
        target=finding,
        project=project,
        data={"severity": finding.severity, "kind": finding.kind, "owner": owner.username, "run": run.pk},
    )
    announce(
        event=Event.FINDING_ASSIGNED,
        title=f"{finding.get_severity_display()} finding on {version.model.name}: {finding.title}",
        body=finding.description,
        recipients=[owner, *owners],
        url=_finding_url(finding),
        project=project,
        data={"finding": finding.pk, "severity": finding.severity, "kind": finding.kind, "run": run.pk},
    )
    return finding
