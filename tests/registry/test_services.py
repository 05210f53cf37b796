"""Registry services: numbering, frozen artifacts, card revisions and completeness, links across projects."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.test import override_settings

from apps.audit.models import AuditEvent
from apps.registry import services
from apps.registry.cards import card_completeness
from apps.registry.choices import VersionStatus
from apps.registry.models import DatasetVersion, ModelVersion
from tests.conftest import Org
from tests.factories import TeamFunction, csv_bytes, make_project, make_user

pytestmark = pytest.mark.django_db
SHA = "ab" * 32


def test_versions_are_numbered_per_model_and_get_an_empty_card(org: Org) -> None:
    second = services.version_create(actor=org.developer, model=org.model, artifact_sha256=SHA)
    other = services.model_create(actor=org.developer, project=org.project, name="other", task="regression")
    first_of_other = services.version_create(actor=org.developer, model=other)
    assert (org.version.number, second.number, first_of_other.number) == (1, 2, 1)
    assert second.card.revision == 0


def test_the_artifact_of_a_version_that_left_draft_cannot_change(org: Org) -> None:
    services.version_update(actor=org.developer, version=org.version, artifact_sha256=SHA)  # draft: fine
    ModelVersion.objects.filter(pk=org.version.pk).update(status=VersionStatus.IN_REVIEW)
    with pytest.raises(ValidationError, match="register a new one"):
        services.version_update(actor=org.developer, version=org.version, artifact_sha256="cd" * 32)
    with pytest.raises(ValidationError):
        services.version_update(actor=org.developer, version=org.version, artifact_uri="s3://elsewhere")
    services.version_update(actor=org.developer, version=org.version, description="Notes may still change.")
    org.version.refresh_from_db()
    assert (org.version.artifact_sha256, org.version.description) == (SHA, "Notes may still change.")


def test_a_parent_must_be_a_version_of_the_same_model(org: Org) -> None:
    other = services.model_create(actor=org.developer, project=org.project, name="other", task="regression")
    foreign = services.version_create(actor=org.developer, model=other)
    with pytest.raises(ValidationError, match="same model"):
        services.version_create(actor=org.developer, model=org.model, parent=foreign)


def _upload(org: Org, actor: object, dataset: object) -> DatasetVersion:
    path = Path(f"/tmp/signet-test-{threading.get_ident()}.csv")  # noqa: S108 - a test's own scratch file
    path.write_bytes(csv_bytes())
    try:
        return services.dataset_version_upload(actor=actor, dataset=dataset, path=path, original_name="x.csv")  # type: ignore[arg-type]
    finally:
        path.unlink()


def test_no_one_links_a_dataset_of_a_project_they_are_not_part_of(org: Org) -> None:
    stranger = make_user("stranger", TeamFunction.DATA_SCIENCE)
    their_project = make_project(stranger, name="Elsewhere")
    their_dataset = services.dataset_create(actor=stranger, project=their_project, name="Theirs")
    theirs = _upload(org, stranger, their_dataset)
    with pytest.raises(PermissionDenied, match="not part of"):
        services.version_create(actor=org.developer, model=org.model, training_dataset=theirs)
    assert org.model.versions.count() == 1


def test_card_edits_keep_revisions_and_are_audited_with_the_changed_sections(org: Org) -> None:
    card = org.version.card
    services.card_update(actor=org.developer, card=card, sections={"intended_use": "Scores credit line applications."})
    services.card_update(
        actor=org.owner, card=card, sections={"intended_use": "Scores credit line applications."}
    )  # no change
    services.card_update(
        actor=org.owner, card=card, sections={"limitations": "Weak on thin-file applicants, by design."}
    )
    card.refresh_from_db()
    assert card.revision == 2
    revisions = list(card.revisions.order_by("revision").values_list("revision", "author__username", "changed"))
    assert revisions == [(1, "devon", ["intended_use"]), (2, "olivia", ["limitations"])]
    events = AuditEvent.objects.filter(action="registry.model_card.updated").order_by("seq")
    assert [list(e.changes) for e in events] == [["intended_use"], ["limitations"]]
    assert events.last().changes["limitations"]["before"] == ""  # type: ignore[union-attr]


@pytest.mark.parametrize("sections", [{"colour": "blue"}, {"intended_use": "x" * 20_001}])
def test_unknown_or_oversized_card_sections_are_refused(org: Org, sections: dict[str, str]) -> None:
    with pytest.raises(ValidationError):
        services.card_update(actor=org.developer, card=org.version.card, sections=sections)
    assert org.version.card.revisions.count() == 0


@override_settings(
    SIGNET_CARD_REQUIRED_SECTIONS={"high": ["intended_use", "limitations"], "medium": ["intended_use"], "low": []}
)
def test_completeness_follows_the_tier_and_counts_only_real_text(org: Org) -> None:
    card = org.version.card
    services.card_update(
        actor=org.developer,
        card=card,
        sections={"intended_use": "too short", "limitations": "Thin-file applicants are weak."},
    )
    card.refresh_from_db()
    assert card_completeness(card, "high").missing == ["intended_use"]
    assert card_completeness(card, "high").percent == 50
    assert card_completeness(card, "").percent == 50  # unqualified projects are held to the high tier
    assert card_completeness(card, "medium").percent == 0
    assert card_completeness(card, "low").complete
