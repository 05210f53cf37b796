"""The shadow-deployment guard on mirror rows: a protected alias on a version the gate refuses is caught."""

from __future__ import annotations

import pytest

from apps.audit.models import AuditEvent
from apps.integrations import locks
from apps.integrations.models import MlflowAlias, MlflowModel
from apps.integrations.services import sync
from apps.integrations.services.aliases import AliasState, alias_states, alias_states_bulk, aliases_check
from apps.notifications.models import Notification
from apps.registry.models import ModelVersion
from apps.workflows import services
from apps.workflows.choices import FindingStatus, FindingType
from apps.workflows.gate import gate_check
from apps.workflows.models import Finding, Review
from tests.integrations.guard import Guarded

pytestmark = pytest.mark.django_db

UNAPPROVED = "integrations.alias.unapproved"


@pytest.fixture
def guarded(monkeypatch: pytest.MonkeyPatch) -> Guarded:
    return Guarded(monkeypatch)


def _findings() -> list[Finding]:
    return list(Finding.objects.filter(kind=FindingType.UNAPPROVED_DEPLOYMENT))


def _check(guarded: Guarded) -> list[dict]:
    return aliases_check(MlflowModel.objects.get(pk=guarded.mlflow_model.pk))


def test_a_protected_alias_on_an_approved_version_raises_nothing(guarded: Guarded) -> None:
    guarded.approve(guarded.version)
    guarded.point("champion", 1)
    before = AuditEvent.objects.count()
    [result] = _check(guarded)
    assert (result["alias"], result["allowed"], result["finding"]) == ("champion", True, None)
    assert result["reasons"] == ["pd-model v1 is approved (review 1) for deployment to production."]
    assert _findings() == []
    assert AuditEvent.objects.count() == before


def test_a_protected_alias_on_a_draft_raises_one_high_finding_and_tells_owners_validators_and_compliance(
    guarded: Guarded,
) -> None:
    guarded.point("champion", 1)
    [result] = _check(guarded)
    assert result["allowed"] is False
    [finding] = _findings()
    assert result["finding"] == finding.pk
    assert finding.title == "Unapproved promotion: churn@champion points at v1"
    assert (finding.severity, finding.version, finding.model, finding.source) == (
        "high", guarded.version, guarded.model, "mlflow-alias:champion"
    )  # fmt: skip
    assert "pd-model v1 is draft, not approved." in finding.description
    assert finding.raised_by == guarded.connection.service_user
    told = set(Notification.objects.filter(event="finding.assigned").values_list("recipient__username", flat=True))
    assert told == {guarded.owner.username, guarded.validator.username, guarded.validator2.username,
                    guarded.compliance.username}  # fmt: skip
    raised = AuditEvent.objects.get(action="workflows.finding.raised")
    assert raised.actor_name == f"mlflow:{guarded.connection.name}"
    event = AuditEvent.objects.get(action=UNAPPROVED)
    assert (event.actor_id, event.actor_name) == (guarded.connection.service_user.pk, guarded.connection.actor_name)
    assert (event.target_type, event.target_id, event.target_repr) == (
        "integrations.mlflowmodel", str(guarded.mlflow_model.pk), "churn@champion"
    )  # fmt: skip
    assert event.project_slug == guarded.project.slug
    assert (event.data["number"], event.data["environment"]) == (1, "production")
    assert event.data["finding"] == finding.pk


def test_checking_twice_raises_one_finding_and_one_event(guarded: Guarded) -> None:
    guarded.point("champion", 1)
    _check(guarded)
    [again] = _check(guarded)
    assert (again["allowed"], again["finding"]) == (False, None)
    assert len(_findings()) == 1
    assert AuditEvent.objects.filter(action=UNAPPROVED).count() == 1
    assert AuditEvent.objects.filter(action="workflows.finding.raised").count() == 1


def test_a_closed_finding_with_the_alias_still_there_is_raised_again(guarded: Guarded) -> None:
    guarded.point("champion", 1)
    _check(guarded)
    Finding.objects.update(status=FindingStatus.CLOSED)
    _check(guarded)
    assert len(_findings()) == 2
    assert AuditEvent.objects.filter(action=UNAPPROVED).count() == 2


def test_a_rejected_version_is_refused(guarded: Guarded) -> None:
    guarded.reject(guarded.version)
    guarded.point("production", 1)
    [result] = _check(guarded)
    assert result["reasons"] == ["pd-model v1 is rejected, not approved."]
    assert [f.source for f in _findings()] == ["mlflow-alias:production"]


def test_a_stale_approval_is_refused(guarded: Guarded) -> None:
    guarded.approve(guarded.version)
    guarded.make_stale(guarded.version)
    guarded.point("champion", 1)
    [result] = _check(guarded)
    assert result["allowed"] is False
    assert "is stale" in result["reasons"][0]
    assert len(_findings()) == 1


def test_an_approval_for_other_environments_is_refused_for_production_and_allowed_for_staging(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    guarded = Guarded(monkeypatch, protected_aliases={"champion": "production", "candidate": "staging"})
    review = guarded.approve(guarded.version)
    Review.objects.filter(pk=review.pk).update(environments=["staging"])
    guarded.point("champion", 1)
    guarded.point("candidate", 1)
    by_alias = {r["alias"]: r for r in _check(guarded)}
    assert by_alias["candidate"]["allowed"] is True
    assert by_alias["champion"]["allowed"] is False
    assert by_alias["champion"]["reasons"] == ["pd-model v1 is approved for staging only; not for production."]
    assert [f.source for f in _findings()] == ["mlflow-alias:champion"]


def test_an_artifact_other_than_the_registered_one_is_refused(guarded: Guarded) -> None:
    # The digest is part of the evidence: register it before the approval, then MLflow's files differ.
    ModelVersion.objects.filter(pk=guarded.version.pk).update(artifact_sha256="a" * 64)
    guarded.approve(guarded.version)
    guarded.hashed(1, "b" * 64)
    guarded.point("champion", 1)
    [result] = _check(guarded)
    assert result["allowed"] is False
    assert "is not the approved one" in result["reasons"][0]
    guarded.hashed(1, "a" * 64)
    Finding.objects.update(status=FindingStatus.CLOSED)
    assert _check(guarded)[0]["allowed"] is True


def test_an_unprotected_alias_is_left_alone(guarded: Guarded) -> None:
    guarded.point("challenger", 1)
    assert _check(guarded) == []
    assert _findings() == []


def test_a_version_signet_does_not_govern_is_unapproved_reported_once_without_a_finding(guarded: Guarded) -> None:
    guarded.link(2, None)
    guarded.point("champion", 2)
    [result] = _check(guarded)
    assert result["allowed"] is False
    assert result["reasons"] == ["churn v2 is not governed by Signet yet (no Signet version): it is not approved."]
    _check(guarded)
    assert _findings() == []
    event = AuditEvent.objects.get(action=UNAPPROVED)
    assert (event.data["version"], event.data["number"]) == (None, 2)
    assert MlflowAlias.objects.get(alias="champion").refused_number == 2


def test_an_alias_of_a_model_in_the_intake_list_is_unapproved(guarded: Guarded) -> None:
    intake = MlflowModel.objects.create(connection=guarded.connection, name="unclaimed")
    MlflowAlias.objects.create(mlflow_model=intake, alias="champion", number=1)
    [result] = aliases_check(intake)
    assert result["reasons"] == [
        "unclaimed is in Signet's intake list: no project governs it, so nothing of it is approved."
    ]
    event = AuditEvent.objects.get(action=UNAPPROVED)
    assert event.project_pk is None


def test_an_alias_that_becomes_backed_is_no_longer_flagged(guarded: Guarded) -> None:
    guarded.point("champion", 1)
    _check(guarded)
    Finding.objects.update(status=FindingStatus.CLOSED)
    guarded.approve(guarded.version)
    assert _check(guarded)[0]["allowed"] is True
    assert MlflowAlias.objects.get(alias="champion").refused_number is None


def test_a_disabled_connection_checks_nothing(guarded: Guarded) -> None:
    guarded.point("champion", 1)
    type(guarded.connection).objects.filter(pk=guarded.connection.pk).update(enabled=False)
    assert _check(guarded) == []
    assert _findings() == []


# --- states for pages --------------------------------------------------------------------------------


def test_alias_states_say_where_each_alias_points_and_whether_it_is_backed(guarded: Guarded) -> None:
    guarded.approve(guarded.version)
    second = guarded.new_version()
    guarded.link(2, second)
    guarded.link(3, None)
    guarded.point("champion", 1)
    guarded.point("production", 2)
    guarded.point("challenger", 3)
    states = {state.alias: state for state in alias_states(guarded.mlflow_model)}
    assert states["champion"] == AliasState(
        alias="champion",
        number=1,
        version_id=guarded.version.pk,
        version_number=1,
        protected=True,
        environment="production",
        backed=True,
        reasons=["pd-model v1 is approved (review 1) for deployment to production."],
    )
    assert (states["production"].backed, states["production"].version_number) == (False, second.number)
    assert states["production"].reasons == [f"pd-model v{second.number} is draft, not approved."]
    assert (states["challenger"].protected, states["challenger"].environment) == (False, None)
    assert (states["challenger"].version_id, states["challenger"].backed) == (None, False)


def _gate_equals_states(guarded: Guarded) -> None:
    guarded.point("champion", 1)
    [state] = alias_states(guarded.mlflow_model)
    guarded.version.refresh_from_db()
    answer = gate_check(version=guarded.version, environment="production")
    assert (state.backed, state.reasons) == (answer.allowed, answer.reasons)


@pytest.mark.parametrize("case", ["draft", "approved", "stale", "expired", "rejected", "blocked", "staging"])
def test_alias_states_judge_as_the_gate_does(guarded: Guarded, case: str) -> None:
    if case == "rejected":
        guarded.reject(guarded.version)
    elif case != "draft":
        review = guarded.approve(guarded.version)
        if case == "stale":
            guarded.make_stale(guarded.version)
        elif case == "expired":
            guarded.expire(review)
        elif case == "staging":
            Review.objects.filter(pk=review.pk).update(environments=["staging"])
        elif case == "blocked":
            services.finding_raise(
                actor=guarded.validator,
                model=guarded.model,
                version=None,
                owner=guarded.developer,
                kind="validation_issue",
                severity="high",
                title="Drift",
                description="On the model as a whole.",
            )
    _gate_equals_states(guarded)


def test_alias_states_take_a_fixed_number_of_queries_however_many_models(
    guarded: Guarded, django_assert_max_num_queries
) -> None:
    guarded.approve(guarded.version)
    guarded.point("champion", 1)
    models = [guarded.mlflow_model]
    for index in range(3):
        other = MlflowModel.objects.create(connection=guarded.connection, name=f"other-{index}")
        MlflowAlias.objects.create(mlflow_model=other, alias="champion", number=1)
        models.append(other)
    with django_assert_max_num_queries(7):
        one = alias_states_bulk(models[:1])
    with django_assert_max_num_queries(7):
        many = alias_states_bulk(models)
    assert one[guarded.mlflow_model.pk][0].backed is True
    assert len(many) == 4
    assert [many[m.pk][0].backed for m in models] == [True, False, False, False]


def test_the_guard_writes_the_mirror_under_the_syncs_write_lock() -> None:
    assert locks.MIRROR_WRITE == sync.WRITE_LOCK
    assert locks.WRITE_BACK not in {sync.WRITE_LOCK, sync.PASS_LOCK}
