"""What the guard's and the write-back's tests share: a governed project and mirror rows made directly."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from apps.integrations.choices import ArtifactState
from apps.integrations.models import MlflowAlias, MlflowConnection, MlflowModel, MlflowVersion
from apps.registry import services as registry
from apps.registry.models import ModelVersion
from apps.workflows import services
from apps.workflows.models import Review
from tests.integrations.factories import make_connection
from tests.workflows.conftest import FULL_CARD, Flow

UNREACHABLE = "http://127.0.0.1:9"  # nothing listens there: a check that needs no restore never calls it


class Guarded(Flow):
    """A low-tier project whose model ``pd-model`` MLflow holds as ``name`` on ``connection``."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch, url: str = UNREACHABLE, name: str = "churn", **fields):
        super().__init__("low")
        self.connection, _secret = make_connection(monkeypatch, self.administrator, url, **fields)
        self.mlflow_model = MlflowModel.objects.create(connection=self.connection, name=name, model=self.model)
        self.mirrors: dict[int, MlflowVersion] = {}
        self.link(1, self.version)

    def new_version(self) -> ModelVersion:
        version = registry.version_create(actor=self.developer, model=self.model, framework="sklearn")
        registry.card_update(actor=self.developer, card=version.card, sections=FULL_CARD)
        return version

    def link(self, number: int, version: ModelVersion | None, **fields) -> MlflowVersion:
        """The mirror row of MLflow version ``number``, linked to ``version`` (None: not governed)."""
        mirror = MlflowVersion.objects.create(mlflow_model=self.mlflow_model, number=number, version=version, **fields)
        self.mirrors[number] = mirror
        return mirror

    def point(self, alias: str, number: int) -> MlflowAlias:
        row, _ = MlflowAlias.objects.update_or_create(
            mlflow_model=self.mlflow_model, alias=alias, defaults={"number": number}
        )
        return row

    def approve(self, version: ModelVersion) -> Review:
        review = services.version_submit(actor=self.developer, version=version)
        version.refresh_from_db()
        services.review_decide(
            actor=self.validator,
            review=review,
            kind="approve",
            comment="Sound.",
            evidence_digest_seen=services.evidence_digest(version),
        )
        review.refresh_from_db()
        return review

    def reject(self, version: ModelVersion) -> Review:
        review = services.version_submit(actor=self.developer, version=version)
        version.refresh_from_db()
        services.review_decide(
            actor=self.validator,
            review=review,
            kind="reject",
            comment="Not sound.",
            evidence_digest_seen=services.evidence_digest(version),
        )
        return review

    def make_stale(self, version: ModelVersion) -> None:
        registry.card_update(actor=self.developer, card=version.card, sections={"limitations": "Also for SMEs, now."})

    def expire(self, review: Review) -> None:
        Review.objects.filter(pk=review.pk).update(expires_at=timezone.now() - timedelta(days=1))

    def hashed(self, number: int, digest: str) -> None:
        MlflowVersion.objects.filter(pk=self.mirrors[number].pk).update(
            artifact_state=ArtifactState.HASHED, artifact_sha256=digest
        )


def connection_of(guarded: Guarded) -> MlflowConnection:
    return MlflowConnection.objects.get(pk=guarded.connection.pk)
