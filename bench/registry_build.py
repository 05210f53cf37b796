"""Fill a Signet database for bench/registry_scale.py: people and projects through the services, the bulk in bulk.

    .venv/bin/python bench/registry_build.py --models 2000 --versions 50 --projects 20 --visible 18 \
        --audit-events 1000000 --out build.json

Run by the harness in Signet's venv with the environment of bench/signet_db.py, on a fresh copy of a
migrated template. What it writes:
- through the services (audited like any use of the portal): teams, the users ``bench-owner``,
  ``bench-writer`` (developer in the first ``--visible`` projects), ``bench-viewer`` (validator in
  them: a non-administrator who sees most but not all projects), ``bench-auditor`` (audit team: the
  audit trail's reader), 24 developers ``bench-devNN`` (two projects each), and the ``--projects``
  projects ``bench-pNN``;
- in bulk (``bulk_create``): ``--models`` models ``bench-model-NNNNN`` (project ``i mod projects``,
  5 tags: ``team-k``, ``domain-k``, ``owner-k``, ``experimental``, ``project-bench-pNN``, as MLflow's
  5 tags in bench/mlflow_build.py), ``--versions`` versions each with the empty model card
  ``version_create`` always makes;
- the audit trail up to ``--audit-events`` events, written with COPY: one ``registry.model.created``
  and one ``registry.model_version.created`` per object, shaped as the services shape them, and
  filler (version and card updates, comments, sign-ins) by project members, spread over two years;
  each hash chained with ``apps.audit.chain.compute_hash`` from the head, as ``audit_record_many``
  does, and the recorded head moved to the last one;
- then, through the services again, a few reviews (a complete card and ``version_submit``).
"""

from __future__ import annotations

import argparse
import io
import json
import random
import sys
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import django

django.setup()

from django.db import connection, transaction  # noqa: E402 - after django.setup(), as every import below

from apps.accounts.choices import TeamFunction  # noqa: E402
from apps.accounts.models import User  # noqa: E402
from apps.audit.actions import Action  # noqa: E402
from apps.audit.chain import compute_hash  # noqa: E402
from apps.audit.models import AuditChainHead, AuditEvent  # noqa: E402
from apps.audit.services import actor_roles, changes_between, snapshot  # noqa: E402
from apps.projects.models import Project  # noqa: E402
from apps.projects.services import membership_add, project_create  # noqa: E402
from apps.registry.choices import CARD_SECTIONS, ModelTask  # noqa: E402
from apps.registry.models import ModelCard, ModelVersion, RegisteredModel, Tag  # noqa: E402
from apps.registry.services import card_update  # noqa: E402
from apps.registry.services.common import MODEL_FIELDS, VERSION_FIELDS  # noqa: E402
from apps.workflows.services import version_submit  # noqa: E402
from tests.factories import make_user  # noqa: E402

DEVELOPERS = 24
HISTORY = timedelta(days=730)
BATCH = 5000
COPY_ROWS = 50_000
WRITTEN = "Written for the benchmark: enough words for the section to count as complete, and then some."
COLUMNS = (
    "seq", "occurred_at", "actor_id", "actor_name", "actor_roles", "auth_method", "request_id", "ip",
    "project_pk", "project_slug", "target_type", "target_id", "target_repr", "action", "changes", "data",
    "prev_hash", "hash",
)  # fmt: skip


def project_slug(index: int) -> str:
    return f"bench-p{index:02d}"


def model_tag_names(index: int, projects: int) -> list[str]:
    return [
        f"team-{index % 7}",
        f"domain-{index % 5}",
        f"owner-{index % 13}",
        "experimental",
        f"project-{project_slug(index % projects)}",
    ]


def people_and_projects(args: argparse.Namespace) -> dict[str, Any]:
    owner = make_user("bench-owner", TeamFunction.DATA_SCIENCE)
    writer = make_user("bench-writer", TeamFunction.DATA_SCIENCE)
    viewer = make_user("bench-viewer", TeamFunction.RISK_VALIDATION)
    make_user("bench-auditor", TeamFunction.AUDIT)
    developers = [make_user(f"bench-dev{k:02d}", TeamFunction.DATA_SCIENCE) for k in range(DEVELOPERS)]
    projects = []
    members: dict[int, list[User]] = {}
    for index in range(args.projects):
        project = project_create(
            actor=owner,
            name=f"Bench project {index:02d}",
            slug=project_slug(index),
            business_objective="Measure the registry at organisation scale.",
        )
        projects.append(project)
        members[project.pk] = []
        if index < args.visible:
            membership_add(actor=owner, project=project, user=writer, role="developer")
            membership_add(actor=owner, project=project, user=viewer, role="validator")
            members[project.pk].append(writer)
    for k, developer in enumerate(developers):
        for index in {k % args.projects, (k + 7) % args.projects}:
            membership_add(actor=owner, project=projects[index], user=developer, role="developer")
            members[projects[index].pk].append(developer)
    return {"owner": owner, "writer": writer, "projects": projects, "members": members}


def registry_rows(args: argparse.Namespace, who: dict[str, Any], start: datetime, step: timedelta) -> dict[str, Any]:
    """Models, tags, versions and cards in bulk; created_at of each as its event's occurred_at will be."""
    rng = random.Random(args.seed)  # noqa: S311 - seeded data, not secrets
    projects: list[Project] = who["projects"]
    members: dict[int, list[User]] = who["members"]
    tags = {name: Tag(name=name) for i in range(args.models) for name in model_tag_names(i, args.projects)}
    Tag.objects.bulk_create(tags.values(), batch_size=BATCH)
    tags = {t.name: t for t in Tag.objects.filter(name__in=list(tags))}
    models = []
    for index in range(args.models):
        project = projects[index % args.projects]
        models.append(
            RegisteredModel(
                project=project,
                name=f"bench-model-{index:05d}",
                task=ModelTask.BINARY,
                description=f"Benchmark model {index}",
                created_by=rng.choice(members[project.pk] or [who["owner"]]),
                created_at=start + step * index,
            )
        )
    RegisteredModel.objects.bulk_create(models, batch_size=BATCH)
    through = RegisteredModel.tags.through
    links = [
        through(registeredmodel_id=model.pk, tag_id=tags[name].pk)
        for index, model in enumerate(models)
        for name in model_tag_names(index, args.projects)
    ]
    through.objects.bulk_create(links, batch_size=BATCH)
    versions = []
    position = args.models
    for number in range(1, args.versions + 1):  # round robin: every model gains versions over the years
        for index, model in enumerate(models):
            uri = f"s3://signet-bench/models/{model.name}/{number}/model"
            versions.append(
                ModelVersion(
                    model=model,
                    number=number,
                    artifact_uri=uri,
                    framework="scikit-learn 1.5",
                    metrics={"auc": round(0.7 + (index % 25) / 100, 2)},
                    created_by=rng.choice(members[model.project_id] or [who["owner"]]),
                    created_at=start + step * position,
                )
            )
            position += 1
    ModelVersion.objects.bulk_create(versions, batch_size=BATCH)
    cards = [ModelCard(version=v, updated_by=v.created_by, updated_at=v.created_at) for v in versions]
    ModelCard.objects.bulk_create(cards, batch_size=BATCH)
    return {"models": models, "versions": versions, "cards": cards}


def _text(value: Any) -> str:
    if value is None:
        return "\\N"
    if isinstance(value, datetime):
        value = value.isoformat()
    elif isinstance(value, (dict, list)):
        value = json.dumps(value, ensure_ascii=False, separators=(",", ":"))
    text = str(value)
    return text.replace("\\", "\\\\").replace("\t", "\\t").replace("\n", "\\n").replace("\r", "\\r")


class ChainWriter:
    """Chain events from the current head and COPY them in batches; move the recorded head at the end."""

    def __init__(self) -> None:
        head = AuditEvent.objects.order_by("-seq").values("seq", "hash").first()
        self.seq, self.prev = (head["seq"], head["hash"]) if head else (0, "0" * 64)
        self.buffer = io.StringIO()
        self.rows = 0
        self.roles: dict[int, list[str]] = {}

    def roles_of(self, actor: User) -> list[str]:
        if actor.pk not in self.roles:
            self.roles[actor.pk] = actor_roles(actor)
        return list(self.roles[actor.pk])

    def add(self, fields: dict[str, Any]) -> None:
        self.seq += 1
        fields["seq"] = self.seq
        digest = compute_hash(self.prev, fields)
        fields["prev_hash"], fields["hash"] = self.prev, digest
        self.prev = digest
        self.buffer.write("\t".join(_text(fields[c]) for c in COLUMNS) + "\n")
        self.rows += 1
        if self.rows >= COPY_ROWS:
            self.flush()

    def flush(self) -> None:
        if not self.rows:
            return
        self.buffer.seek(0)
        with connection.cursor() as cursor:
            cursor.copy_expert(  # type: ignore[attr-defined]
                f"COPY {AuditEvent._meta.db_table} ({', '.join(COLUMNS)}) FROM STDIN", self.buffer
            )
        self.buffer = io.StringIO()
        self.rows = 0

    def finish(self) -> None:
        self.flush()
        if not AuditChainHead.objects.filter(pk=1).update(seq=self.seq, hash=self.prev):
            AuditChainHead.objects.create(pk=1, seq=self.seq, hash=self.prev)


def event(actor: User, roles: list[str], moment: datetime, action: str, **rest: Any) -> dict[str, Any]:
    return {
        "occurred_at": moment,
        "actor_id": actor.pk,
        "actor_name": actor.username,
        "actor_roles": roles,
        "auth_method": rest.pop("auth_method", "session"),
        "request_id": uuid.uuid4().hex,
        "ip": "10.20.30.40",
        "project_pk": None,
        "project_slug": "",
        "target_type": "",
        "target_id": "",
        "target_repr": "",
        "action": action,
        "changes": {},
        "data": {},
        **rest,
    }


def audit_trail(
    args: argparse.Namespace, who: dict[str, Any], rows: dict[str, Any], start: datetime, step: timedelta
) -> int:
    """The structural events (one per model, one per version) with filler between them, up to the total."""
    rng = random.Random(args.seed + 1)  # noqa: S311 - seeded data, not secrets
    chain = ChainWriter()
    projects = {p.pk: p for p in who["projects"]}
    members: dict[int, list[User]] = who["members"]
    people = sorted({u.pk: u for us in members.values() for u in us}.values(), key=lambda u: u.pk)
    models: list[RegisteredModel] = rows["models"]
    versions: list[ModelVersion] = rows["versions"]
    cards: list[ModelCard] = rows["cards"]
    structural = len(models) + len(versions)
    filler = max(0, args.audit_events - chain.seq - structural - 40)  # 40: what the services write after
    per_slot = filler / structural if structural else 0.0
    owed = 0.0
    moment = start

    def filler_event() -> None:
        nonlocal moment
        moment += step / (per_slot + 1)
        pick = rng.random()
        version = versions[rng.randrange(len(versions))]
        project = projects[version.model.project_id]
        actor = rng.choice(members[project.pk] or people)
        where = {"project_pk": project.pk, "project_slug": project.slug}
        if pick < 0.4:
            fields = event(
                actor, chain.roles_of(actor), moment, Action.VERSION_UPDATED, **where,
                target_type="registry.modelversion", target_id=str(version.pk), target_repr=str(version),
                changes={"description": {"before": "", "after": f"Retrained on {moment:%Y-%m-%d}."}},
            )  # fmt: skip
        elif pick < 0.65:
            card = cards[rng.randrange(len(cards))]
            fields = event(
                actor, chain.roles_of(actor), moment, Action.MODEL_CARD_UPDATED, **where,
                target_type="registry.modelcard", target_id=str(card.pk), target_repr=f"Model card of {version}",
                changes={"limitations": {"before": "", "after": WRITTEN}}, data={"revision": 1},
            )  # fmt: skip
        elif pick < 0.8:
            fields = event(
                actor, chain.roles_of(actor), moment, Action.COMMENT_ADDED, **where,
                target_type="projects.project", target_id=str(project.pk), target_repr=project.name,
                data={"length": 40 + rng.randrange(400)},
            )  # fmt: skip
        else:
            actor = rng.choice(people)
            fields = event(
                actor, chain.roles_of(actor), moment, Action.SIGN_IN_SUCCEEDED,
                target_type="accounts.user", target_id=str(actor.pk), target_repr=actor.username,
            )  # fmt: skip
        chain.add(fields)

    def slot(fields: dict[str, Any]) -> None:
        nonlocal owed, moment
        chain.add(fields)
        owed += per_slot
        while owed >= 1.0:
            filler_event()
            owed -= 1.0

    tags_of = {i: sorted(model_tag_names(i, args.projects)) for i in range(len(models))}
    for index, model in enumerate(models):
        moment = model.created_at
        project = projects[model.project_id]
        slot(
            event(
                model.created_by,
                chain.roles_of(model.created_by),
                moment,
                Action.MODEL_CREATED,
                project_pk=project.pk,
                project_slug=project.slug,
                target_type="registry.registeredmodel",
                target_id=str(model.pk),
                target_repr=model.name,
                changes=changes_between({}, dict(snapshot(model, MODEL_FIELDS), tags=tags_of[index])),
            )
        )
    for version in versions:
        moment = version.created_at
        project = projects[version.model.project_id]
        slot(
            event(
                version.created_by,
                chain.roles_of(version.created_by),
                moment,
                Action.VERSION_CREATED,
                auth_method="token",
                project_pk=project.pk,
                project_slug=project.slug,
                target_type="registry.modelversion",
                target_id=str(version.pk),
                target_repr=str(version),
                changes=changes_between({}, snapshot(version, ("number", *VERSION_FIELDS))),
            )
        )
    chain.finish()
    return chain.seq


def reviews(args: argparse.Namespace, who: dict[str, Any], rows: dict[str, Any]) -> list[int]:
    """A few open reviews: the newest version of the first model of some visible projects, card complete."""
    writer: User = who["writer"]
    sections = {name: WRITTEN for name, _title, _help in CARD_SECTIONS}
    made = []
    for project in who["projects"][: min(args.reviews, args.visible)]:
        version = ModelVersion.objects.filter(model__project=project).order_by("model__name", "-number").first()
        if version is None:
            continue
        card_update(actor=writer, card=version.card, sections=sections)
        made.append(version_submit(actor=writer, version=version).pk)
    return made


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--models", type=int, required=True)
    parser.add_argument("--versions", type=int, required=True)
    parser.add_argument("--projects", type=int, required=True)
    parser.add_argument("--visible", type=int, required=True)
    parser.add_argument("--audit-events", type=int, required=True)
    parser.add_argument("--reviews", type=int, default=10)
    parser.add_argument("--seed", type=int, default=13)
    parser.add_argument("--out", required=True)
    args = parser.parse_args()
    timings: dict[str, float] = {}
    started = time.perf_counter()
    with transaction.atomic():
        who = people_and_projects(args)
    timings["people_s"] = time.perf_counter() - started
    structural = args.models * (args.versions + 1)
    begin = datetime.now(UTC) - HISTORY
    step = HISTORY / max(1, structural)
    with transaction.atomic():
        rows = registry_rows(args, who, begin, step)
        timings["registry_s"] = time.perf_counter() - started - sum(timings.values())
        events = audit_trail(args, who, rows, begin, step)
        timings["audit_s"] = time.perf_counter() - started - sum(timings.values())
    with transaction.atomic():
        review_ids = reviews(args, who, rows)
    timings["reviews_s"] = time.perf_counter() - started - sum(timings.values())
    report = {
        "events": AuditEvent.objects.count(),
        "bulk_events_head": events,
        "models": RegisteredModel.objects.count(),
        "versions": ModelVersion.objects.count(),
        "cards": ModelCard.objects.count(),
        "reviews": review_ids,
        "timings": timings,
    }
    Path(args.out).write_text(json.dumps(report, indent=2) + "\n")
    print(json.dumps(report), flush=True)


if __name__ == "__main__":
    main()
