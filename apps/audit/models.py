"""The append-only, hash-chained audit trail.

Only ``apps.audit.services.audit_record`` (and ``audit_record_many``, the same events in bulk)
inserts rows; triggers refuse UPDATE and DELETE. Foreign keys from here use PROTECT: an audited
user is deactivated, never deleted, because the database would refuse the SET NULL a deletion
implies.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models

from apps.core.choices import AuthMethod


class AuditEvent(models.Model):
    seq = models.PositiveBigIntegerField(unique=True, help_text="Gap-free position in the chain, from 1.")
    occurred_at = models.DateTimeField(db_index=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    actor_name = models.CharField(max_length=150, blank=True)
    actor_roles = models.JSONField(default=list, blank=True)
    auth_method = models.CharField(max_length=16, choices=AuthMethod.choices)
    request_id = models.CharField(max_length=64, blank=True)
    ip = models.CharField(max_length=45, blank=True)
    # A loose reference on purpose: the trail outlives what it describes (see docs/audit.md).
    project_pk = models.PositiveBigIntegerField(null=True, blank=True)
    project_slug = models.CharField(max_length=100, blank=True)
    target_type = models.CharField(max_length=100, blank=True, help_text="app_label.model")
    target_id = models.CharField(max_length=64, blank=True)
    target_repr = models.CharField(max_length=255, blank=True)
    action = models.CharField(max_length=100)
    changes = models.JSONField(default=dict, blank=True)
    data = models.JSONField(default=dict, blank=True)
    prev_hash = models.CharField(max_length=64)
    hash = models.CharField(max_length=64, unique=True)

    class Meta:
        ordering = ["seq"]
        indexes = [
            models.Index(fields=["action", "seq"], name="audit_action_seq"),
            models.Index(fields=["target_type", "target_id", "seq"], name="audit_target_seq"),
            models.Index(fields=["project_pk", "seq"], name="audit_project_seq"),
            models.Index(fields=["actor", "seq"], name="audit_actor_seq"),
            # The auditor's filters compare the names kept with each event (they survive a rename):
            # with seq last, the newest page of one actor or project is read off the index and stops there.
            models.Index(fields=["actor_name", "seq"], name="audit_actor_name_seq"),
            models.Index(fields=["project_slug", "seq"], name="audit_project_slug_seq"),
        ]

    def __str__(self) -> str:
        return f"#{self.seq} {self.action}"


class AuditChainHead(models.Model):
    """The chain's length and head, kept outside the events table in the same transaction as each append.

    One row. The database refuses to delete it or to move it backwards, so an emptied or cut events
    table does not verify as a clean, shorter trail.
    """

    id = models.PositiveSmallIntegerField(primary_key=True, default=1)
    seq = models.PositiveBigIntegerField(help_text="Seq of the newest event: the number of events.")
    hash = models.CharField(max_length=64)

    class Meta:
        constraints = [models.CheckConstraint(condition=models.Q(id=1), name="audit_chainhead_one_row")]

    def __str__(self) -> str:
        return f"{self.seq}:{self.hash}"


class AuditCheckpoint(models.Model):
    """A signed statement that the chain had ``head_hash`` at ``seq``; append-only like the events."""

    seq = models.PositiveBigIntegerField(unique=True, help_text="Seq of the event the checkpoint covers.")
    head_hash = models.CharField(max_length=64)
    signed_at = models.DateTimeField()
    key_id = models.CharField(max_length=16, help_text="First 16 hex digits of SHA-256 of the public key.")
    signature = models.CharField(max_length=128, help_text="Ed25519 signature, hex.")

    class Meta:
        ordering = ["seq"]

    def __str__(self) -> str:
        return f"checkpoint {self.seq}:{self.head_hash}"
