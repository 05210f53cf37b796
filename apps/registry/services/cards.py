"""Model cards: every write keeps a revision of who changed what."""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from apps.accounts.models import User
from apps.audit.actions import Action
from apps.audit.services import audit_record, changes_between, snapshot
from apps.core.permissions import require
from apps.registry import permissions as can
from apps.registry import rules
from apps.registry.choices import CARD_SECTION_NAMES
from apps.registry.models import (
    ModelCard,
    ModelCardRevision,
)
from apps.registry.selectors import version_under_review


def card_update(*, actor: User, card: ModelCard, sections: dict[str, str]) -> ModelCard:
    """Write sections of a model card; a new revision keeps who changed what.

    Side effects: a ``ModelCardRevision`` and ``registry.model_card.updated`` with before/after of
    the changed sections. Raises PermissionDenied, ValidationError.
    """
    project = card.version.model.project
    require(can.can_edit_card(actor, card.version), can.BUILD_DENIED)
    if version_under_review(card.version_id):
        # Reviewers sign the evidence they saw; a change now would void their decisions mid-review.
        raise ValidationError({"card": "The version is in review: wait for the decision, or ask for changes."})
    unknown = set(sections) - set(CARD_SECTION_NAMES)
    if unknown:
        raise ValidationError({name[:64]: "This is not a section of the model card." for name in sorted(unknown)})
    too_long = [
        name for name, text in sections.items() if not isinstance(text, str) or len(text) > rules.CARD_SECTION_MAX_CHARS
    ]
    if too_long:
        raise ValidationError(
            dict.fromkeys(too_long, f"Write text of at most {rules.CARD_SECTION_MAX_CHARS:,} characters.")
        )
    with transaction.atomic():
        card = ModelCard.objects.select_for_update(no_key=True).get(pk=card.pk)
        before = snapshot(card, CARD_SECTION_NAMES)
        for name, text in sections.items():
            setattr(card, name, text.strip())
        after = snapshot(card, CARD_SECTION_NAMES)
        changes = changes_between(before, after)
        if not changes:
            return card
        card.revision += 1
        card.updated_by = actor
        card.updated_at = timezone.now()
        card.save()
        ModelCardRevision.objects.create(
            card=card, revision=card.revision, sections=after, changed=sorted(changes), author=actor
        )
        audit_record(
            actor=actor,
            action=Action.MODEL_CARD_UPDATED,
            target=card.version,
            project=project,
            changes=changes,
            data={"revision": card.revision},
        )
    return card
