"""Answer-only serializers (strict.ReadModelSerializer) build their fields once and answer as DRF's own loop does."""

from __future__ import annotations

from typing import Any

import pytest
from rest_framework import serializers

from apps.core.api import strict
from apps.registry import selectors
from apps.registry import services as registry
from apps.registry.api import serializers as api
from apps.registry.models import ModelVersion, RegisteredModel
from tests.conftest import Org

pytestmark = pytest.mark.django_db
DRF_READABLE_FIELDS = serializers.Serializer.__dict__["_readable_fields"]

READ_SERIALIZERS = [
    api.VersionBriefSerializer,
    api.RegisteredModelSerializer,
    api.ModelVersionSerializer,
    api.ModelCardSerializer,
    api.DatasetSerializer,
    api.DatasetVersionSerializer,
]


def _built_per_answer(serializer_class: type, instance: Any) -> Any:
    """What DRF answers when it builds the fields for this one answer (its own ``_readable_fields``)."""
    plain = type(f"Plain{serializer_class.__name__}", (serializer_class,), {"_readable_fields": DRF_READABLE_FIELDS})
    return plain(instance).data


def _instances(org: Org) -> dict[type, Any]:
    registry.version_create(actor=org.developer, model=org.model, framework="xgboost", metrics={"auc": 0.81})
    registry.card_update(
        actor=org.developer, card=org.version.card, sections={"intended_use": "Decide on credit lines."}
    )
    model = selectors.models_with_latest_version(RegisteredModel.objects.all()).prefetch_related("tags").get()
    version = ModelVersion.objects.select_related("model__project", "card", "created_by").get(pk=org.version.pk)
    dataset_version = registry.dataset_version_link(
        actor=org.developer, dataset=org.dataset, uri="s3://bucket/applications.csv", sha256="a" * 64
    )
    return {
        api.VersionBriefSerializer: version,
        api.RegisteredModelSerializer: model,
        api.ModelVersionSerializer: version,
        api.ModelCardSerializer: version.card,
        api.DatasetSerializer: org.dataset,
        api.DatasetVersionSerializer: dataset_version,
    }


@pytest.mark.parametrize("serializer_class", READ_SERIALIZERS, ids=lambda cls: cls.__name__)
def test_the_answer_is_the_one_drf_builds_per_answer(org: Org, serializer_class: type) -> None:
    instance = _instances(org)[serializer_class]
    expected = _built_per_answer(serializer_class, instance)
    assert serializer_class(instance).data == expected
    assert serializer_class([instance, instance], many=True).data == [expected, expected]
    assert expected, "something to compare"


def test_the_fields_are_built_once_per_class(org: Org) -> None:
    version = _instances(org)[api.ModelVersionSerializer]
    api.ModelVersionSerializer(version).data  # noqa: B018 - builds the prototype if no test did
    first = api.ModelVersionSerializer.__dict__["_prototype_fields"]
    api.ModelVersionSerializer(version).data  # noqa: B018
    assert api.ModelVersionSerializer.__dict__["_prototype_fields"] is first
    assert "_prototype_fields" not in strict.ReadModelSerializer.__dict__


def test_a_writable_field_is_refused() -> None:
    class Writable(strict.ReadModelSerializer[RegisteredModel]):
        class Meta:
            model = RegisteredModel
            fields = ("id", "name")

    with pytest.raises(TypeError, match="answers only: make name read-only"):
        Writable(RegisteredModel(name="x")).data  # noqa: B018
