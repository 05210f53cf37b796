"""Write-back: the signet.* tags Signet sets on MLflow versions, so MLflow users see the governance state.

On every MLflow version that a Signet version governs, when the connection says so (``write_back``).
From the first submission (a draft never submitted carries none):

- ``signet.status``: the Signet version's status (``draft``, ``in_review``, ``changes_requested``,
  ``approved``, ``rejected``, ``deployed``, ``retired``), or ``stale`` for an approved or deployed
  version whose approval no longer covers its evidence or has expired (as
  ``apps.workflows.gate.approval_current`` has it): the gate refuses it until it is re-approved.
- ``signet.review``: the latest review as ``<cycle>:<status>`` (``2:approved``, ``3:open``), short
  enough to read in MLflow's UI and to filter on (``tags.`signet.review` LIKE '%:approved'``); the
  tag is absent before the first submission.
- ``signet.approved_digest``: the evidence digest the approval signed, while the version is approved
  or deployed; absent otherwise.

Only tags that differ from what Signet last wrote (``written_tags``) or from what the mirror last
read from MLflow (``tags``: someone edited or removed one) are written, so a write-back with nothing
new makes no call. Signet never touches a version's files. The bridge writes as its service account
(``integrations.version.tags_written``, with before/after).

``write_back(mlflow_version)`` (task ``write_back_version``) writes one version;
``write_back_due(connection)`` yields the ids of versions whose tags are behind, for the reconcile.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Iterator

from django.db import transaction
from django.utils import timezone

from apps.audit.actions import Action
from apps.audit.services import audit_record
from apps.integrations.locks import mirror_write_lock, write_back_lock
from apps.integrations.mlflow_client import MlflowError
from apps.integrations.models import MlflowConnection, MlflowVersion
from apps.integrations.secrets import SecretMissing
from apps.integrations.services.connections import client_for
from apps.registry.choices import VersionStatus
from apps.workflows.choices import ReviewStatus
from apps.workflows.evidence import evidence_digests
from apps.workflows.models import Review

logger = logging.getLogger("apps.integrations.services")

STATUS_TAG = "signet.status"
REVIEW_TAG = "signet.review"
DIGEST_TAG = "signet.approved_digest"
TAGS = (STATUS_TAG, REVIEW_TAG, DIGEST_TAG)
STALE = "stale"
APPROVED_STATUSES = (VersionStatus.APPROVED, VersionStatus.DEPLOYED)
CHUNK = 500

Tags = dict[str, str | None]  # None: the tag must be absent


def desired_tags(mlflow_versions: Iterable[MlflowVersion]) -> dict[int, Tags]:
    """The signet.* tags each linked mirror version should carry, by mirror id, in three queries.

    ``mlflow_versions`` need their ``version`` loaded; unlinked ones are left out of the answer.
    """
    linked = [mv for mv in mlflow_versions if mv.version is not None]
    versions = [mv.version for mv in linked if mv.version is not None]
    if not versions:
        return {}
    latest: dict[int, Review] = {}
    approved: dict[int, Review] = {}
    for review in Review.objects.filter(version__in=versions).order_by("cycle", "pk"):
        latest[review.version_id] = review  # ordered by cycle: the last one wins
        if review.status == ReviewStatus.APPROVED:
            approved[review.version_id] = review
    digests = evidence_digests([version for version in versions if version.pk in approved])
    now = timezone.now()
    result: dict[int, Tags] = {}
    for mv in linked:
        version = mv.version
        assert version is not None  # linked above
        approval = approved.get(version.pk)
        status = str(version.status)
        if status in APPROVED_STATUSES:
            current = (
                approval is not None
                and approval.approved_digest == digests.get(version.pk)
                and not (approval.expires_at is not None and approval.expires_at <= now)
            )
            if not current:
                status = STALE
        last = latest.get(version.pk)
        if last is None and status == VersionStatus.DRAFT:
            # Governance has not started: imported drafts stay untagged (a first pass imports thousands).
            result[mv.pk] = dict.fromkeys(TAGS)
            continue
        result[mv.pk] = {
            STATUS_TAG: status,
            REVIEW_TAG: f"{last.cycle}:{last.status}" if last is not None else None,
            DIGEST_TAG: (
                approval.approved_digest or None
                if approval is not None and version.status in APPROVED_STATUSES
                else None
            ),
        }
    return result


def tags_behind(mlflow_version: MlflowVersion, desired: Tags) -> Tags:
    """The tags to write: those whose value differs from what Signet wrote or from what MLflow showed."""
    behind: Tags = {}
    for key, value in desired.items():
        written, shown = mlflow_version.written_tags.get(key), mlflow_version.tags.get(key)
        if value is None:
            if key in mlflow_version.written_tags or key in mlflow_version.tags:
                behind[key] = None
        elif written != value or shown != value:
            behind[key] = value
    return behind


def _writable(mlflow_version: MlflowVersion) -> bool:
    connection = mlflow_version.mlflow_model.connection
    return bool(
        connection.write_back
        and connection.enabled
        and mlflow_version.version_id is not None
        and mlflow_version.deleted_at is None
        and mlflow_version.mlflow_model.deleted_at is None
    )


def write_back(mlflow_version: MlflowVersion) -> bool:
    """Bring the signet.* tags of one MLflow version up to date; True when something was written.

    Does nothing (False) when the connection's write-back is off or disabled, or the version is not
    linked to a Signet version or is gone from MLflow. Side effects: ``set-tag``/``delete-tag`` calls
    to MLflow, the mirror's ``written_tags`` and ``tags``, ``integrations.version.tags_written``.
    Raises MlflowError when MLflow could not be reached (the tags it did write are recorded first).
    """
    mlflow_version = MlflowVersion.objects.select_related("mlflow_model__connection").get(pk=mlflow_version.pk)
    if not _writable(mlflow_version):
        return False
    connection = mlflow_version.mlflow_model.connection
    failure: MlflowError | None = None
    with transaction.atomic():
        # One write-back of a version at a time, MLflow's calls included, so an older state never
        # overwrites a newer one; no row is locked while MLflow answers.
        write_back_lock(mlflow_version.pk)
        mlflow_version = MlflowVersion.objects.select_related("version", "mlflow_model__connection").get(
            pk=mlflow_version.pk
        )
        if not _writable(mlflow_version):
            return False
        behind = tags_behind(mlflow_version, desired_tags([mlflow_version]).get(mlflow_version.pk, {}))
        if not behind:
            return False
        written: Tags = {}
        try:
            with client_for(connection) as client:
                for key, value in behind.items():
                    name, number = mlflow_version.mlflow_model.name, mlflow_version.number
                    if value is None:
                        client.delete_version_tag(name, number, key)
                    else:
                        client.set_version_tag(name, number, key, value)
                    written[key] = value
        except MlflowError as exc:
            failure = exc
        except SecretMissing as exc:
            failure = MlflowError(str(exc))
        if written:
            _record(connection, mlflow_version.pk, written)
    if failure is not None:
        logger.warning(
            "mlflow %s: write-back of %s v%s stopped: %s",
            connection.name,
            mlflow_version.mlflow_model.name,
            mlflow_version.number,
            failure.message,
        )
        raise failure
    return True


def _record(connection: MlflowConnection, mlflow_version_id: int, written: Tags) -> None:
    """Keep what MLflow now has in the mirror, and audit it: the mirror lock, the row, then the chain."""
    mirror_write_lock(connection.pk)
    mlflow_version = (
        MlflowVersion.objects.select_for_update(of=("self",), no_key=True)
        .select_related("version__model__project")
        .get(pk=mlflow_version_id)
    )
    before = {key: mlflow_version.written_tags.get(key) for key in written}
    tags, record = dict(mlflow_version.tags), dict(mlflow_version.written_tags)
    for key, value in written.items():
        if value is None:
            tags.pop(key, None)
            record.pop(key, None)
        else:
            tags[key] = record[key] = value
    mlflow_version.tags, mlflow_version.written_tags = tags, record
    mlflow_version.save(update_fields=["tags", "written_tags"])
    version = mlflow_version.version
    audit_record(
        actor=connection.service_user,
        actor_name=connection.actor_name,
        action=Action.MLFLOW_TAGS_WRITTEN,
        target=mlflow_version,
        project=version.model.project if version is not None else None,
        changes={key: {"before": before[key], "after": value} for key, value in written.items()},
        data={"connection": connection.name, "version": mlflow_version.version_id},
    )


def write_back_due(connection: MlflowConnection) -> Iterator[int]:
    """The ids of the connection's linked versions whose signet.* tags are behind, a chunk of queries at a time.

    Nothing when the connection's write-back is off. For the reconcile, which sends ``write_back_version``.
    """
    if not (connection.write_back and connection.enabled):
        return
    linked = (
        MlflowVersion.objects.filter(
            mlflow_model__connection=connection,
            mlflow_model__deleted_at=None,
            deleted_at=None,
            version__isnull=False,
        )
        .select_related("version")
        .order_by("pk")
    )
    last = 0
    while True:
        chunk = list(linked.filter(pk__gt=last)[:CHUNK])
        if not chunk:
            return
        desired = desired_tags(chunk)
        for mv in chunk:
            if tags_behind(mv, desired.get(mv.pk, {})):
                yield mv.pk
        last = chunk[-1].pk
