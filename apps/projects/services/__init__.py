"""Governed changes to projects: each checks permission, writes its audit event, in one transaction."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.text import slugify

from apps.accounts.choices import TeamFunction
from apps.accounts.models import User
from apps.audit.actions import Action
from apps.audit.services import audit_chain_lock, audit_record, changes_between, snapshot
from apps.core.permissions import require, team_functions, unique_or_invalid
from apps.core.unset import UNSET, Unset, given
from apps.projects import permissions as can
from apps.projects.choices import BUILD_ROLES, JUDGE_TEAMS, ProjectRole
from apps.projects.models import (
    Comment,
    DataNeed,
    Membership,
    Project,
    Questionnaire,
    RiskQualification,
    RoleGrant,
)
from apps.projects.questionnaires import V1_HIGH_FROM, V1_MEDIUM_FROM, V1_QUESTIONS
from apps.projects.risk import derive_tier, validate_answers
from apps.projects.services.kpis import kpi_create, kpi_record_value

PROJECT_FIELDS = ("name", "slug", "business_objective", "intended_users", "out_of_scope", "status")


RESERVED_SLUGS = frozenset({"new"})  # words the project URLs use themselves (/projects/new/)


def _unique_slug(name: str) -> str:
    base = slugify(name)[:90] or "project"
    slug, n = base, 2
    while slug in RESERVED_SLUGS or Project.objects.filter(slug=slug).exists():
        slug, n = f"{base}-{n}", n + 1
    return slug


def project_create(
    *,
    actor: User,
    name: str,
    business_objective: str,
    intended_users: str = "",
    out_of_scope: str = "",
    slug: str = "",
) -> Project:
    """Propose a project; the proposer becomes its owner.

    Side effects: ``projects.project.created`` and ``projects.membership.added`` events.
    Raises PermissionDenied (people in no team), ValidationError.
    """
    require(can.can_propose_project(actor), "Only members of a team can propose a project.")
    if slug in RESERVED_SLUGS:
        raise ValidationError({"slug": f"“{slug}” is a word Signet's addresses use; choose another."})
    project = Project(
        name=name.strip(),
        slug=slug or _unique_slug(name),
        business_objective=business_objective.strip(),
        intended_users=intended_users.strip(),
        out_of_scope=out_of_scope.strip(),
        created_by=actor,
    )
    project.full_clean()
    with transaction.atomic():
        with unique_or_invalid("slug", "Another project already uses this address; try again."):
            project.save()
        audit_record(
            actor=actor,
            action=Action.PROJECT_CREATED,
            target=project,
            project=project,
            changes=changes_between({}, snapshot(project, PROJECT_FIELDS)),
        )
        membership = Membership.objects.create(project=project, user=actor, role=ProjectRole.OWNER, added_by=actor)
        _grant_started(membership)
        audit_record(
            actor=actor,
            action=Action.MEMBERSHIP_ADDED,
            target=membership,
            project=project,
            data={"user": actor.username, "role": ProjectRole.OWNER, "reason": "proposer of the project"},
        )
    return project


def project_update(
    *,
    actor: User,
    project: Project,
    name: str | Unset = UNSET,
    slug: str | Unset = UNSET,
    business_objective: str | Unset = UNSET,
    intended_users: str | Unset = UNSET,
    out_of_scope: str | Unset = UNSET,
    status: str | Unset = UNSET,
) -> Project:
    """Change those given of a project's description and status. Side effects: ``projects.project.updated``."""
    require(can.can_edit_project(actor, project), "Only the project's owners and business owners can edit it.")
    fields = given(
        name=name,
        slug=slug,
        business_objective=business_objective,
        intended_users=intended_users,
        out_of_scope=out_of_scope,
        status=status,
    )
    with transaction.atomic():
        project = Project.objects.select_for_update(no_key=True).get(pk=project.pk)
        if "slug" in fields:  # a key may change: that write comes after the chain lock (0015)
            audit_chain_lock()
        before = snapshot(project, PROJECT_FIELDS)
        for field, value in fields.items():
            setattr(project, field, value.strip() if isinstance(value, str) and field != "slug" else value)
        project.full_clean()
        changes = changes_between(before, snapshot(project, PROJECT_FIELDS))
        if changes:
            project.updated_at = timezone.now()
            with unique_or_invalid("slug", "Another project already uses this address."):
                project.save()
            audit_record(actor=actor, action=Action.PROJECT_UPDATED, target=project, project=project, changes=changes)
    return project


def _grant_started(membership: Membership) -> None:
    RoleGrant.objects.create(
        project=membership.project,
        user=membership.user,
        role=membership.role,
        granted_by=membership.added_by,
        granted_at=membership.added_at,
    )


def _grant_ended(membership: Membership) -> None:
    """Close the role's open grant; a role given outside the services (fixtures) gets one closed now."""
    now = timezone.now()
    grants = RoleGrant.objects.filter(
        project=membership.project, user=membership.user, role=membership.role, ended_at=None
    )
    if not grants.update(ended_at=now):
        RoleGrant.objects.create(
            project=membership.project,
            user=membership.user,
            role=membership.role,
            granted_by=membership.added_by,
            granted_at=membership.added_at,
            ended_at=now,
        )


def membership_add(*, actor: User, project: Project, user: User, role: str) -> Membership:
    """Give a person a role in the project. Nobody grants a role to themselves.

    Side effects: ``projects.membership.added``. Raises PermissionDenied, ValidationError.
    """
    require(can.can_manage_members(actor, project), "Only the project's owners manage its team.")
    require(actor.pk != user.pk, "Nobody grants a role to themselves: ask another owner.")
    if role not in ProjectRole.values:
        raise ValidationError({"role": f"Choose one of: {', '.join(ProjectRole.values)}."})
    if not user.is_active:
        raise ValidationError({"user": "This person's account is deactivated."})
    if role != ProjectRole.VIEWER and TeamFunction.AUDIT in team_functions(user):
        raise ValidationError({"role": "Members of the audit team stay independent: they can only be viewers."})
    if role in JUDGE_TEAMS and (refusal := can.judge_refusal(user, project, role)):
        raise ValidationError({"role": refusal})
    if role in BUILD_ROLES:
        judging = Membership.objects.filter(project=project, user=user, role__in=JUDGE_TEAMS).first()
        if judging is not None:
            raise ValidationError(
                {
                    "role": f"{user.username} judges this project as {judging.get_role_display().lower()}; "
                    "a judge never builds or owns the project they judge."
                }
            )
    try:
        with transaction.atomic():
            membership = Membership.objects.create(project=project, user=user, role=role, added_by=actor)
            _grant_started(membership)
            audit_record(
                actor=actor,
                action=Action.MEMBERSHIP_ADDED,
                target=membership,
                project=project,
                data={"user": user.username, "role": role},
            )
    except IntegrityError:
        raise ValidationError({"role": f"{user.username} already has this role in the project."}) from None
    return membership


def membership_remove(*, actor: User, membership: Membership) -> None:
    """Take a role away. The last owner stays. Side effects: ``projects.membership.removed``."""
    project = membership.project
    require(can.can_manage_members(actor, project), "Only the project's owners manage its team.")
    with transaction.atomic():
        Project.objects.select_for_update(no_key=True).get(pk=project.pk)  # one team change at a time per project
        owners = Membership.objects.filter(project=project, role=ProjectRole.OWNER)
        if membership.role == ProjectRole.OWNER and owners.count() <= 1:
            raise ValidationError({"role": "A project keeps at least one owner; add another owner first."})
        audit_record(
            actor=actor,
            action=Action.MEMBERSHIP_REMOVED,
            target=membership,
            project=project,
            data={"user": membership.user.username, "role": membership.role},
        )
        _grant_ended(membership)
        membership.delete()


def data_need_create(
    *, actor: User, project: Project, description: str, provider: str = "", access_status: str = "needed"
) -> DataNeed:
    """Record data the project needs. Side effects: ``projects.data_need.created``."""
    require(
        can.can_edit_project(actor, project) or can.can_build(actor, project),
        "Only the project's owners, business owners and developers record data needs.",
    )
    need = DataNeed(
        project=project, description=description.strip(), provider=provider.strip(), access_status=access_status
    )
    need.full_clean()
    with transaction.atomic():
        need.save()
        audit_record(
            actor=actor,
            action=Action.DATA_NEED_CREATED,
            target=need,
            project=project,
            changes=changes_between({}, snapshot(need, ("description", "provider", "access_status"))),
        )
    return need


def data_need_update(*, actor: User, need: DataNeed, access_status: str) -> DataNeed:
    """Move a data need along (requested, granted, refused). Side effects: ``projects.data_need.updated``."""
    project = need.project
    require(
        can.can_edit_project(actor, project) or can.can_build(actor, project),
        "Only the project's owners, business owners and developers update data needs.",
    )
    with transaction.atomic():
        need = DataNeed.objects.select_for_update(no_key=True).get(pk=need.pk)
        before = snapshot(need, ("access_status",))
        need.access_status = access_status
        need.full_clean()
        need.save()
        changes = changes_between(before, snapshot(need, ("access_status",)))
        if changes:
            audit_record(actor=actor, action=Action.DATA_NEED_UPDATED, target=need, project=project, changes=changes)
    return need


def current_questionnaire() -> Questionnaire:
    """Return the questionnaire in force (migrations create version 1; an emptied database gets it back)."""
    current = Questionnaire.objects.filter(is_current=True).first()
    if current is None:
        with transaction.atomic():
            current, created = Questionnaire.objects.get_or_create(
                version=1,
                defaults={
                    "questions": V1_QUESTIONS,
                    "high_from": V1_HIGH_FROM,
                    "medium_from": V1_MEDIUM_FROM,
                    "is_current": True,
                },
            )
            if created:
                audit_record(actor=None, action=Action.QUESTIONNAIRE_CREATED, target=current, data={"version": 1})
    return current


def qualification_submit(*, actor: User, project: Project, answers: Any) -> RiskQualification:
    """Answer the risk questionnaire; the answers derive the tier.

    Side effects: a new ``RiskQualification``, the project's tier and rationale, the events
    ``projects.qualification.submitted`` and, when the tier changes, ``projects.project.tier_changed``
    with the rationale. Raises PermissionDenied, ValidationError (naming each unanswered question).
    """
    require(
        can.can_qualify_risk(actor, project),
        "Only the project's owners and business owners answer the risk questionnaire.",
    )
    questionnaire = current_questionnaire()
    clean = validate_answers(questionnaire.questions, answers)
    decision = derive_tier(
        questions=questionnaire.questions,
        high_from=questionnaire.high_from,
        medium_from=questionnaire.medium_from,
        answers=clean,
    )
    with transaction.atomic():
        project = Project.objects.select_for_update(no_key=True).get(pk=project.pk)
        qualification = RiskQualification.objects.create(
            project=project,
            questionnaire=questionnaire,
            answers=clean,
            score=decision.score,
            tier=decision.tier,
            rationale=decision.rationale,
            answered_by=actor,
        )
        audit_record(
            actor=actor,
            action=Action.QUALIFICATION_SUBMITTED,
            target=project,
            project=project,
            data={
                "questionnaire_version": questionnaire.version,
                "answers": clean,
                "score": decision.score,
                "tier": decision.tier,
                "rationale": decision.rationale,
            },
        )
        if project.risk_tier != decision.tier or project.risk_rationale != decision.rationale:
            before = {"risk_tier": project.risk_tier}
            project.risk_tier = decision.tier
            project.risk_rationale = decision.rationale
            project.updated_at = timezone.now()
            project.save(update_fields=["risk_tier", "risk_rationale", "updated_at"])
            if before["risk_tier"] != decision.tier:
                audit_record(
                    actor=actor,
                    action=Action.PROJECT_TIER_CHANGED,
                    target=project,
                    project=project,
                    changes=changes_between(before, {"risk_tier": decision.tier}),
                    data={"rationale": decision.rationale, "questionnaire_version": questionnaire.version},
                )
    return qualification


def comment_add(*, actor: User, project: Project, body: str) -> Comment:
    """Post to the project's discussion. Side effects: ``projects.comment.added`` (with the text)."""
    require(can.can_comment(actor, project), "Only members of the project take part in its discussion.")
    body = body.strip()
    if not body:
        raise ValidationError({"body": "Write something first."})
    if len(body) > 10_000:
        raise ValidationError({"body": "Keep a comment under 10,000 characters."})
    with transaction.atomic():
        comment = Comment.objects.create(project=project, author=actor, body=body)
        audit_record(actor=actor, action=Action.COMMENT_ADDED, target=comment, project=project, data={"body": body})
    return comment


__all__ = ["kpi_create", "kpi_record_value"]
