"""Project pages: list, propose, the shared project page, team, risk questionnaire, KPIs, discussion."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from apps.core import panels
from apps.core.forms import add_service_errors
from apps.core.permissions import acting_user, require
from apps.projects import permissions as can
from apps.projects import presenters, selectors, services
from apps.projects.choices import DataAccessStatus, ProjectStatus, RiskTier
from apps.projects.filters import ProjectFilter
from apps.projects.forms import (
    CommentForm,
    DataNeedForm,
    KpiForm,
    KpiValueForm,
    MembershipForm,
    ProjectEditForm,
    ProjectForm,
    QualificationForm,
)
from apps.projects.models import DataNeed, Kpi, Membership, Project


@login_required
@require_GET
def project_list(request: HttpRequest) -> HttpResponse:
    params = {**ProjectFilter.read(request.GET), "sort": request.GET.get("sort", "")}
    projects = selectors.project_list(user=request.user, filters=params, sort=params["sort"] or "name")
    return render(
        request,
        "projects/project_list.html",
        {
            "projects": projects,
            "params": params,
            "statuses": ProjectStatus.choices,
            "tiers": RiskTier.choices,
            "can_propose": can.can_propose_project(request.user),
        },
    )


@login_required
@require_http_methods(["GET", "POST"])
def project_create(request: HttpRequest) -> HttpResponse:
    require(can.can_propose_project(request.user), "Only members of a team can propose a project.")
    form = ProjectForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            project = services.project_create(actor=acting_user(request), **form.cleaned_data)
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            messages.success(request, "Project proposed. Next: answer the risk questionnaire.")
            return redirect("projects:project_qualify", slug=project.slug)
    status = 400 if request.method == "POST" else 200
    return render(request, "projects/project_form.html", {"form": form, "creating": True}, status=status)


def _page_context(request: HttpRequest, project: Project, **forms: Any) -> dict[str, Any]:
    user = request.user
    data = selectors.project_page_data(project=project)
    # The models (registry) and what is in service (workflows) are sections other apps contribute.
    sections = panels.context_for("projects.project", user=user, project=project)
    steps = selectors.next_steps(project=project, data=data) + sections.pop("model_next_steps", [])
    # Which version was in production when each value shown was measured: monitoring links them.
    shown = presenters.measurement_ids(data["kpis"])
    versions = panels.context_for("projects.kpis", user=user, project=project, measurements=shown)
    context = {
        "project": project,
        **data,
        **sections,
        "next_steps": steps,
        "kpi_charts": presenters.kpi_charts(data["kpis"], versions.get("kpi_versions", {})),
        "roles": sorted(can.roles_in(user, project)),
        "can_edit": can.can_edit_project(user, project),
        "can_manage": can.can_manage_members(user, project),
        "can_qualify": can.can_qualify_risk(user, project),
        "can_comment": can.can_comment(user, project),
        "can_build": can.can_build(user, project),
        "kpi_form": KpiForm(),
        "kpi_value_form": KpiValueForm(),
        "data_need_form": DataNeedForm(),
        "comment_form": CommentForm(),
        "access_choices": DataAccessStatus.choices,
    }
    context.update(forms)
    return context


@login_required
@require_GET
def project_detail(request: HttpRequest, slug: str) -> HttpResponse:
    project = selectors.project_get(user=request.user, slug=slug)
    return render(request, "projects/project_detail.html", _page_context(request, project))


@login_required
@require_http_methods(["GET", "POST"])
def project_edit(request: HttpRequest, slug: str) -> HttpResponse:
    project = selectors.project_get(user=request.user, slug=slug)
    require(can.can_edit_project(request.user, project), "Only the project's owners and business owners can edit it.")
    initial = {
        f: getattr(project, f) for f in ("name", "business_objective", "intended_users", "out_of_scope", "status")
    }
    form = ProjectEditForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            services.project_update(actor=acting_user(request), project=project, **form.cleaned_data)
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            messages.success(request, "Project saved.")
            return redirect("projects:project_detail", slug=project.slug)
    status = 400 if request.method == "POST" else 200
    return render(request, "projects/project_form.html", {"form": form, "project": project}, status=status)


@login_required
@require_http_methods(["GET", "POST"])
def project_members(request: HttpRequest, slug: str) -> HttpResponse:
    project = selectors.project_get(user=request.user, slug=slug)
    form = MembershipForm(request.POST or None)
    if request.method == "POST":
        require(can.can_manage_members(request.user, project), "Only the project's owners manage its team.")
        if form.is_valid():
            try:
                services.membership_add(
                    actor=acting_user(request),
                    project=project,
                    user=form.cleaned_data["username"],
                    role=form.cleaned_data["role"],
                )
            except ValidationError as exc:
                add_service_errors(form, exc)
            else:
                messages.success(request, f"{form.cleaned_data['username'].username} joined the project.")
                return redirect("projects:project_members", slug=project.slug)
    memberships = selectors.memberships_of(project)
    return render(
        request,
        "projects/membership_list.html",
        {
            "project": project,
            "memberships": memberships,
            "form": form,
            "can_manage": can.can_manage_members(request.user, project),
        },
        status=400 if request.method == "POST" else 200,
    )


@login_required
@require_POST
def project_member_remove(request: HttpRequest, slug: str, membership_id: int) -> HttpResponse:
    project = selectors.project_get(user=request.user, slug=slug)
    membership = get_object_or_404(Membership.objects.filter(project=project), pk=membership_id)
    try:
        services.membership_remove(actor=acting_user(request), membership=membership)
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    else:
        messages.success(request, f"{membership.user.username} no longer has the role {membership.get_role_display()}.")
    return redirect("projects:project_members", slug=project.slug)


@login_required
@require_http_methods(["GET", "POST"])
def project_qualify(request: HttpRequest, slug: str) -> HttpResponse:
    project = selectors.project_get(user=request.user, slug=slug)
    questionnaire = services.current_questionnaire()
    latest = project.qualifications.first()
    form = QualificationForm(questionnaire.questions, request.POST or None, initial=latest.answers if latest else None)
    if request.method == "POST":
        require(
            can.can_qualify_risk(request.user, project),
            "Only the project's owners and business owners answer the risk questionnaire.",
        )
        if form.is_valid():
            try:
                qualification = services.qualification_submit(
                    actor=acting_user(request), project=project, answers=form.cleaned_data
                )
            except ValidationError as exc:
                add_service_errors(form, exc)
            else:
                messages.success(request, f"Risk tier: {qualification.get_tier_display()}. {qualification.rationale}")
                return redirect("projects:project_detail", slug=project.slug)
    return render(
        request,
        "projects/qualification_form.html",
        {
            "project": project,
            "form": form,
            "questionnaire": questionnaire,
            "latest": latest,
            "can_qualify": can.can_qualify_risk(request.user, project),
        },
        status=400 if request.method == "POST" else 200,
    )


def _rerender(request: HttpRequest, project: Project, **forms: Any) -> HttpResponse:
    return render(request, "projects/project_detail.html", _page_context(request, project, **forms), status=400)


@login_required
@require_POST
def kpi_add(request: HttpRequest, slug: str) -> HttpResponse:
    project = selectors.project_get(user=request.user, slug=slug)
    form = KpiForm(request.POST)
    if form.is_valid():
        try:
            services.kpi_create(actor=acting_user(request), project=project, **form.cleaned_data)
            return redirect("projects:project_detail", slug=project.slug)
        except ValidationError as exc:
            add_service_errors(form, exc)
    return _rerender(request, project, kpi_form=form)


@login_required
@require_POST
def kpi_value_add(request: HttpRequest, slug: str, kpi_id: int) -> HttpResponse:
    project = selectors.project_get(user=request.user, slug=slug)
    kpi = get_object_or_404(Kpi.objects.filter(project=project), pk=kpi_id)
    form = KpiValueForm(request.POST)
    if form.is_valid():
        services.kpi_record_value(actor=acting_user(request), kpi=kpi, value=form.cleaned_data["value"])
        return redirect("projects:project_detail", slug=project.slug)
    return _rerender(request, project, kpi_value_form=form)


@login_required
@require_POST
def data_need_add(request: HttpRequest, slug: str) -> HttpResponse:
    project = selectors.project_get(user=request.user, slug=slug)
    form = DataNeedForm(request.POST)
    if form.is_valid():
        services.data_need_create(actor=acting_user(request), project=project, **form.cleaned_data)
        return redirect("projects:project_detail", slug=project.slug)
    return _rerender(request, project, data_need_form=form)


@login_required
@require_POST
def data_need_update(request: HttpRequest, slug: str, need_id: int) -> HttpResponse:
    project = selectors.project_get(user=request.user, slug=slug)
    need = get_object_or_404(DataNeed.objects.filter(project=project), pk=need_id)
    try:
        services.data_need_update(
            actor=acting_user(request), need=need, access_status=request.POST.get("access_status", "")
        )
    except ValidationError:
        messages.error(request, "Choose needed, requested, granted or refused.")
        return _rerender(request, project)
    return redirect("projects:project_detail", slug=project.slug)


@login_required
@require_POST
def comment_add(request: HttpRequest, slug: str) -> HttpResponse:
    project = selectors.project_get(user=request.user, slug=slug)
    form = CommentForm(request.POST)
    if form.is_valid():
        try:
            services.comment_add(actor=acting_user(request), project=project, body=form.cleaned_data["body"])
            return redirect(f"{project_url(project)}#discussion")
        except ValidationError as exc:
            add_service_errors(form, exc)
    return _rerender(request, project, comment_form=form)


def project_url(project: Project) -> str:
    return reverse("projects:project_detail", kwargs={"slug": project.slug})
