"""Cases an independent review found: leaks, races, odd input, and links people cannot see."""

from __future__ import annotations

import threading
from decimal import Decimal
from pathlib import Path

import pytest
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection, connections
from django.test import Client, override_settings
from django.test.utils import CaptureQueriesContext

from apps.audit.models import AuditEvent
from apps.projects import services as projects
from apps.projects.models import Membership
from apps.registry import services as registry
from apps.registry.models import DatasetVersion, ModelVersion
from tests.conftest import Org, bearer, signed_in
from tests.factories import TeamFunction, csv_bytes, make_project, make_user

pytestmark = pytest.mark.django_db


def _upload(actor, dataset) -> DatasetVersion:
    path = Path(f"/tmp/signet-review-{threading.get_ident()}.csv")  # noqa: S108 - the test's own scratch file
    path.write_bytes(csv_bytes())
    try:
        return registry.dataset_version_upload(actor=actor, dataset=dataset, path=path, original_name="d.csv")
    finally:
        path.unlink()


@pytest.fixture
def shared_data(org: Org) -> dict[str, object]:
    """A developer in two projects trains a model of project B on data of project A (org's project)."""
    other_owner = make_user("bea", TeamFunction.BUSINESS)
    project_b = make_project(other_owner, name="Project B", developer=org.developer)
    data_a = _upload(org.developer, org.dataset)
    secret_model = registry.model_create(
        actor=org.developer, project=project_b, name="b-secret-model", task="regression"
    )
    registry.version_create(actor=org.developer, model=secret_model, training_dataset=data_a)
    return {"project_b": project_b, "data_a": data_a}


def test_used_by_lists_never_reveal_models_of_projects_the_reader_cannot_see(org: Org, shared_data: dict) -> None:
    validator_client = signed_in(org.validator)  # in project A only
    dataset_page = validator_client.get(f"/registry/datasets/{org.dataset.pk}/").content.decode()
    assert "b-secret-model" not in dataset_page
    assert "b-secret-model" not in validator_client.get("/registry/catalogue/?q=Applications").content.decode()
    developer_page = signed_in(org.developer).get(f"/registry/datasets/{org.dataset.pk}/").content.decode()
    assert "b-secret-model" in developer_page  # who may see both sees the link


def test_editing_a_version_keeps_a_link_to_data_the_editor_cannot_see(org: Org, shared_data: dict) -> None:
    version = ModelVersion.objects.get(model__name="b-secret-model")
    other_dev = make_user("dana", TeamFunction.DATA_SCIENCE)
    projects.membership_add(
        actor=shared_data["project_b"].created_by, project=shared_data["project_b"], user=other_dev, role="developer"
    )
    client = signed_in(other_dev)
    page = client.get(f"/registry/versions/{version.pk}/edit/")
    assert page.status_code == 200
    response = client.post(
        f"/registry/versions/{version.pk}/edit/",
        {"framework": "lightgbm", "training_dataset": str(shared_data["data_a"].pk)},
    )
    assert response.status_code == 302, response.content.decode()[:500]
    version.refresh_from_db()
    assert (version.framework, version.training_dataset_id) == ("lightgbm", shared_data["data_a"].pk)


def test_a_catalogue_search_with_many_words_stays_cheap(org: Org) -> None:
    client = signed_in(org.developer)
    client.get("/registry/catalogue/?q=x")

    def sql_size(count: int) -> int:
        words = " ".join(f"w{i}" for i in range(count))
        with CaptureQueriesContext(connection) as captured:
            assert client.get(f"/registry/catalogue/?q={words}").status_code == 200
        return sum(len(query["sql"]) for query in captured)

    # Past the cap more words add nothing: 50 words cost what 8 cost.
    assert sql_size(50) == sql_size(8)


def test_two_owners_removing_each_other_at_once_leave_one_owner(transactional_db: None) -> None:
    first = make_user("first", TeamFunction.BUSINESS)
    second = make_user("second", TeamFunction.BUSINESS)
    project = make_project(first)
    projects.membership_add(actor=first, project=project, user=second, role="owner")
    rows = {m.user.username: m for m in Membership.objects.filter(project=project).select_related("user", "project")}
    barrier = threading.Barrier(2)
    outcomes: list[str] = []

    def remove(actor_name: str, target_name: str) -> None:
        actor = first if actor_name == "first" else second
        barrier.wait()
        try:
            projects.membership_remove(actor=actor, membership=rows[target_name])
            outcomes.append("removed")
        except (ValidationError, Exception) as exc:  # noqa: BLE001 - the loser may see either refusal
            outcomes.append(type(exc).__name__)
        finally:
            connections.close_all()

    threads = [
        threading.Thread(target=remove, args=("first", "second")),
        threading.Thread(target=remove, args=("second", "first")),
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert Membership.objects.filter(project=project, role="owner").count() >= 1
    assert outcomes.count("removed") == 1


@override_settings(SIGNET_MAX_UPLOAD_BYTES=2048)
def test_the_upload_limit_counts_every_file_of_a_request(org: Org) -> None:
    client = signed_in(org.developer)
    files = {f"file{i}": SimpleUploadedFile(f"d{i}.csv", b"a,b\n" + b"1,2\n" * 200) for i in range(4)}  # 804 bytes each
    response = client.post(f"/registry/datasets/{org.dataset.pk}/upload/", files)
    assert response.status_code == 413
    assert not DatasetVersion.objects.exists()


def test_a_viewer_cannot_probe_usernames_through_the_team_endpoint(org: Org, token_for) -> None:
    client = Client(headers=bearer(token_for(org.validator)))
    for username in ("otto", "no-such-person"):
        response = client.post(
            f"/api/v1/projects/{org.project.slug}/members/",
            {"username": username, "role": "viewer"},
            content_type="application/json",
        )
        assert response.status_code == 403


def test_auditors_join_projects_only_as_viewers(org: Org) -> None:
    with pytest.raises(ValidationError, match="audit team stay independent"):
        projects.membership_add(actor=org.owner, project=org.project, user=org.auditor, role="developer")
    projects.membership_add(actor=org.owner, project=org.project, user=org.auditor, role="viewer")


@pytest.mark.parametrize(
    "url",
    [
        "/projects/?q=a%00b",
        "/registry/models/?tag=%00",
        "/registry/datasets/?project=%00",
        "/registry/catalogue/?owner=%00",
    ],
)
def test_a_nul_in_a_query_string_is_a_400_on_pages(org: Org, url: str) -> None:
    assert signed_in(org.developer).get(url).status_code == 400


@pytest.mark.parametrize("url", ["/api/v1/projects/?q=%00", "/api/v1/models/?tag=%00", "/api/v1/datasets/?q=a%00"])
def test_a_nul_in_a_query_string_is_a_400_in_the_api(org: Org, token_for, url: str) -> None:
    response = Client(headers=bearer(token_for(org.developer))).get(url)
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "bad_request"


@pytest.mark.parametrize(
    "metrics",
    [{"\u0000": 1}, {"bad\nname": 1}, {"": 1}, {"x" * 65: 1}, {"auc": float("nan")}, "[1, 2]", "1" * 5000],
)
def test_metric_names_and_values_that_cannot_be_stored_are_refused(org: Org, token_for, metrics: object) -> None:
    import json

    body = (
        json.dumps({"metrics": metrics})
        if not isinstance(metrics, dict) or "auc" not in metrics
        else '{"metrics": {"auc": NaN}}'
    )
    client = Client(headers=bearer(token_for(org.developer)))
    response = client.post(f"/api/v1/models/{org.model.pk}/versions/", body, content_type="application/json")
    assert response.status_code == 400, response.content
    page = signed_in(org.developer).post(
        f"/registry/models/{org.model.pk}/versions/new/",
        {"metrics": metrics if isinstance(metrics, str) else json.dumps(metrics)},
    )
    assert page.status_code == 400
    assert org.model.versions.count() == 1


def test_a_project_called_new_gets_a_reachable_address(org: Org) -> None:
    project = projects.project_create(actor=org.owner, name="New", business_objective="Anything.")
    assert project.slug == "new-2"
    assert signed_in(org.owner).get(f"/projects/{project.slug}/").status_code == 200
    with pytest.raises(ValidationError):
        projects.project_create(actor=org.owner, name="X", slug="new", business_objective="Anything.")


def test_a_version_derives_only_from_an_earlier_version(org: Org, token_for) -> None:
    second = registry.version_create(actor=org.developer, model=org.model)
    client = Client(headers=bearer(token_for(org.developer)))
    own = client.patch(f"/api/v1/versions/{second.pk}/", {"parent": second.pk}, content_type="application/json")
    assert own.status_code == 400
    later = client.patch(f"/api/v1/versions/{org.version.pk}/", {"parent": second.pk}, content_type="application/json")
    assert later.status_code == 400
    earlier = client.patch(
        f"/api/v1/versions/{second.pk}/", {"parent": org.version.pk}, content_type="application/json"
    )
    assert earlier.status_code == 200


def test_kpi_numbers_are_written_plainly(org: Org) -> None:
    kpi = projects.kpi_create(actor=org.owner, project=org.project, name="Volume", target=Decimal("100"), unit="k")
    projects.kpi_record_value(actor=org.owner, kpi=kpi, value=Decimal("2.500000"))
    page = signed_in(org.owner).get(f"/projects/{org.project.slug}/").content.decode()
    assert "100 k" in page
    assert "2.5 k" in page
    assert "E+" not in page


def test_the_qualification_event_keeps_the_tier_and_its_rationale(org: Org) -> None:
    from tests.projects.test_permission_matrix import ANSWERS

    projects.qualification_submit(actor=org.owner, project=org.project, answers=ANSWERS)
    event = AuditEvent.objects.get(action="projects.qualification.submitted")
    assert event.data["tier"] == "low"
    assert event.data["rationale"].startswith("Low risk")


def test_detail_pages_are_constant_in_the_number_of_versions_and_authors(org: Org) -> None:
    client = signed_in(org.auditor)

    def count(url: str) -> int:
        client.get(url)
        with CaptureQueriesContext(connection) as captured:
            assert client.get(url).status_code == 200
        return len(captured)

    _upload(org.developer, org.dataset)  # so the first count already includes the versions' queries
    urls = [f"/registry/models/{org.model.pk}/", f"/registry/datasets/{org.dataset.pk}/", "/registry/models/"]
    before = [count(url) for url in urls]
    for i in range(4):
        author = make_user(f"author{i}", TeamFunction.DATA_SCIENCE)
        projects.membership_add(actor=org.owner, project=org.project, user=author, role="developer")
        version = registry.version_create(actor=author, model=org.model)
        registry.card_update(actor=author, card=version.card, sections={"intended_use": "Written by someone else."})
        _upload(author, org.dataset)
    assert [count(url) for url in urls] == before
