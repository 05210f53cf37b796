"""Review pages: submit, study the evidence and decide, findings, deployments."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_http_methods, require_POST

from apps.accounts.selectors import active_user_by_username
from apps.core.forms import add_service_errors
from apps.core.ids import parse_id
from apps.core.permissions import acting_user
from apps.projects.choices import RiskTier
from apps.registry import selectors as registry_selectors
from apps.registry.cards import card_completeness
from apps.validation.models import ValidationRun
from apps.workflows import selectors, services
from apps.workflows.evidence import evidence_digest
from apps.workflows.forms import (
    DecisionForm,
    DelegationForm,
    DeploymentForm,
    FindingForm,
    FindingStatusForm,
    PolicyForm,
    RetireForm,
    StageFormSet,
)
from apps.workflows.models import ApprovalPolicy, Review
from apps.workflows.permissions import can_edit_policies
from apps.workflows.signers import facts_for
from apps.workflows.stages import open_stages, stage_for, stage_states


@login_required
@require_POST
def version_submit(request: HttpRequest, version_id: int) -> HttpResponse:
    version = get_object_or_404(registry_selectors.versions_visible_to(request.user), pk=version_id)
    try:
        review = services.version_submit(actor=acting_user(request), version=version)
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
        return redirect("registry:version_detail", version_id=version.pk)
    messages.success(request, f"Submitted for review (cycle {review.cycle}). The reviewers see it in their inbox.")
    return redirect("workflows:review_detail", review_id=review.pk)


def _review_context(request: HttpRequest, review: Review, **forms: Any) -> dict[str, Any]:
    version = review.version
    digest = evidence_digest(version)
    decisions = list(review.decisions.select_related("decider"))
    if review.status == "open":
        stage, refusal = stage_for(facts_for(request.user, review, digest))
    else:
        stage, refusal = None, "This review is closed."
    return {
        "review": review,
        "version": version,
        "project": version.model.project,
        "card": version.card,
        "completeness": card_completeness(version.card, version.model.project.risk_tier),
        "stages": stage_states(review.stages, decisions, digest),
        "active_stage": stage,
        "open_keys": [s["key"] for s in open_stages(review.stages, decisions, digest)],
        "refusal": refusal,
        "digest": digest,
        "decisions": decisions,
        **selectors.version_findings(version),
        "validation_runs": ValidationRun.objects.filter(version=version)[:10],
        "form": forms.get("form") or DecisionForm(initial={"evidence_digest": digest}),
        "finding_form": forms.get("finding_form") or FindingForm(),
    }


def _review_get(request: HttpRequest, review_id: int) -> Review:
    return get_object_or_404(selectors.reviews_visible_to(request.user).select_related("version__card"), pk=review_id)


@login_required
@require_http_methods(["GET", "POST"])
def review_detail(request: HttpRequest, review_id: int) -> HttpResponse:
    """Everything a reviewer needs on one screen, and the decision form."""
    review = _review_get(request, review_id)
    if request.method == "GET":
        return render(request, "workflows/review_detail.html", _review_context(request, review))
    form = DecisionForm(request.POST)
    if form.is_valid():
        try:
            services.review_decide(
                actor=acting_user(request),
                review=review,
                kind=form.cleaned_data["kind"],
                comment=form.cleaned_data["comment"],
                evidence_digest_seen=form.cleaned_data["evidence_digest"],
            )
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            messages.success(request, "Your decision is recorded.")
            return redirect("workflows:review_detail", review_id=review.pk)
    return render(request, "workflows/review_detail.html", _review_context(request, review, form=form), status=400)


@login_required
@require_POST
def review_delegate(request: HttpRequest, review_id: int) -> HttpResponse:
    review = _review_get(request, review_id)
    form = DelegationForm(request.POST)
    to_user = active_user_by_username(form.cleaned_data["username"]) if form.is_valid() else None
    if to_user is None:
        messages.error(request, "There is no active person with this username.")
    else:
        try:
            services.review_delegate(
                actor=acting_user(request), review=review, to_user=to_user, reason=form.cleaned_data["reason"]
            )
        except ValidationError as exc:
            messages.error(request, " ".join(exc.messages))
        else:
            messages.success(request, f"Your decision is delegated to {to_user.username}.")
    return redirect("workflows:review_detail", review_id=review.pk)


@login_required
@require_POST
def finding_raise(request: HttpRequest, review_id: int) -> HttpResponse:
    review = _review_get(request, review_id)
    form = FindingForm(request.POST)
    if form.is_valid():
        data = form.cleaned_data
        owner = active_user_by_username(data["owner"])
        if owner is None:
            form.add_error("owner", "No active person with this username.")
        else:
            try:
                services.finding_raise(
                    actor=acting_user(request),
                    model=review.version.model,
                    version=review.version,
                    owner=owner,
                    kind=data["kind"],
                    severity=data["severity"],
                    title=data["title"],
                    description=data["description"],
                    due_date=data["due_date"],
                )
            except ValidationError as exc:
                add_service_errors(form, exc)
            else:
                messages.success(request, "Finding raised; its owner sees it in their inbox.")
                return redirect("workflows:review_detail", review_id=review.pk)
    return render(
        request, "workflows/review_detail.html", _review_context(request, review, finding_form=form), status=400
    )


@login_required
@require_POST
def finding_update(request: HttpRequest, finding_id: int) -> HttpResponse:
    finding = get_object_or_404(selectors.findings_visible_to(request.user), pk=finding_id)
    form = FindingStatusForm(request.POST)
    target = request.POST.get("next_review")
    if form.is_valid():
        remediation = form.cleaned_data["remediation"]
        try:
            services.finding_update(
                actor=acting_user(request),
                finding=finding,
                reason=form.cleaned_data["reason"],
                status=form.cleaned_data["status"],
                remediation=remediation if remediation else services.UNSET,  # an empty box keeps what is written
            )
        except (ValidationError, PermissionDenied) as exc:
            messages.error(request, " ".join(getattr(exc, "messages", [str(exc)])))
        else:
            messages.success(request, "Finding updated.")
    else:
        messages.error(request, "Choose a status.")
    review_id = parse_id(target)
    if review_id is not None:
        return redirect("workflows:review_detail", review_id=review_id)
    if finding.version_id is None:
        return redirect("registry:model_detail", model_id=finding.model_id)
    return redirect("registry:version_detail", version_id=finding.version_id)


@login_required
@require_POST
def deployment_record(request: HttpRequest, version_id: int) -> HttpResponse:
    version = get_object_or_404(registry_selectors.versions_visible_to(request.user), pk=version_id)
    form = DeploymentForm(request.POST)
    if not form.is_valid():
        messages.error(request, "Give the environment as a short name, such as production.")
    else:
        try:
            services.deployment_record(actor=acting_user(request), version=version, **form.cleaned_data)
        except ValidationError as exc:
            messages.error(request, " ".join(exc.messages))
        else:
            messages.success(request, f"Deployment to {form.cleaned_data['environment']} recorded.")
    return redirect("registry:version_detail", version_id=version.pk)


@login_required
@require_POST
def version_retire(request: HttpRequest, version_id: int) -> HttpResponse:
    version = get_object_or_404(registry_selectors.versions_visible_to(request.user), pk=version_id)
    form = RetireForm(request.POST)
    if not form.is_valid():
        messages.error(request, "Say why the version is retired.")
    else:
        try:
            services.version_retire(actor=acting_user(request), version=version, reason=form.cleaned_data["reason"])
        except ValidationError as exc:
            messages.error(request, " ".join(exc.messages))
        else:
            messages.success(request, "Version retired; the deployment gate refuses it from now on.")
    return redirect("registry:version_detail", version_id=version.pk)


@login_required
def policy_list(request: HttpRequest) -> HttpResponse:
    """The approval policy in force for each risk tier, and the earlier versions."""
    if not can_edit_policies(request.user):
        raise PermissionDenied("Only administrators and compliance manage approval policies.")
    policies = [services.policy_in_force(tier) for tier in RiskTier.values]
    history = ApprovalPolicy.objects.filter(is_current=False).order_by("tier", "-version")
    return render(request, "workflows/policy_list.html", {"policies": policies, "history": history})


@login_required
@require_http_methods(["GET", "POST"])
def policy_edit(request: HttpRequest, tier: str) -> HttpResponse:
    """Publish a new version of a tier's policy: stages in order, quorum, independence, period, grace."""
    if not can_edit_policies(request.user):
        raise PermissionDenied("Only administrators and compliance manage approval policies.")
    if tier not in RiskTier.values:
        raise Http404
    current = services.policy_in_force(tier)
    if request.method == "GET":
        form = PolicyForm(
            initial={
                "review_period_days": current.review_period_days,
                "grace_days": current.grace_days,
                "requires_validation": current.requires_validation,
                "environments": ", ".join(current.environments or []),
                "base_version": current.version,
            }
        )
        stages = StageFormSet(
            initial=[{**s, "team": s.get("team") or "", "ORDER": i} for i, s in enumerate(current.stages, start=1)],
            prefix="stages",
        )
        return render(
            request, "workflows/policy_edit.html", {"tier": tier, "policy": current, "form": form, "stages": stages}
        )
    form = PolicyForm(request.POST)
    stages = StageFormSet(request.POST, prefix="stages")
    if form.is_valid() and stages.is_valid():
        kept = [f for f in stages.ordered_forms if f.has_changed() or f.initial]
        try:
            policy = services.policy_publish(
                actor=acting_user(request),
                tier=tier,
                stages=[f.stage() for f in kept],
                review_period_days=form.cleaned_data["review_period_days"],
                grace_days=form.cleaned_data["grace_days"],
                requires_validation=form.cleaned_data["requires_validation"],
                environments=form.cleaned_data["environments"],
                base_version=form.cleaned_data["base_version"],
            )
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            messages.success(request, f"Published {policy}. Reviews already open keep the stages they opened with.")
            return redirect("workflows:policy_list")
    return render(
        request,
        "workflows/policy_edit.html",
        {"tier": tier, "policy": current, "form": form, "stages": stages},
        status=400,
    )
