from __future__ import annotations

from django.db import models


class ModelTask(models.TextChoices):
    BINARY = "binary_classification", "Binary classification"
    MULTICLASS = "multiclass", "Multiclass classification"
    REGRESSION = "regression", "Regression"
    OTHER = "other", "Other"


class VersionStatus(models.TextChoices):
    DRAFT = "draft", "Draft"
    IN_REVIEW = "in_review", "In review"
    CHANGES_REQUESTED = "changes_requested", "Changes requested"
    APPROVED = "approved", "Approved"
    REJECTED = "rejected", "Rejected"
    DEPLOYED = "deployed", "Deployed"
    RETIRED = "retired", "Retired"


class Sensitivity(models.TextChoices):
    PUBLIC = "public", "Public"
    INTERNAL = "internal", "Internal"
    CONFIDENTIAL = "confidential", "Confidential"
    RESTRICTED = "restricted", "Restricted"


class FileFormat(models.TextChoices):
    CSV = "csv", "CSV"
    PARQUET = "parquet", "Parquet"
    URI = "uri", "External URI"


# The model card's sections, in the order they are shown. (field name, title, what to write)
CARD_SECTIONS: list[tuple[str, str, str]] = [
    ("intended_use", "Intended use", "Who uses the model, for which decision, in which setting."),
    ("out_of_scope_use", "Out-of-scope use", "Uses the model must not be put to."),
    ("training_data", "Training data", "Which data, which period, how it was prepared; known gaps."),
    ("evaluation", "Evaluation data and results", "How it was evaluated, on which data, with which results."),
    ("limitations", "Limitations", "Where the model is weak or should not be trusted."),
    ("ethical_considerations", "Ethical considerations", "Fairness, affected groups, possible harms."),
    ("monitoring_plan", "Monitoring plan", "What is watched in production, how often, and by whom."),
    ("human_oversight", "Human oversight", "How people review, override or stop the model's decisions."),
]
CARD_SECTION_NAMES = [name for name, _title, _help in CARD_SECTIONS]
# A section counts as written from this many characters: a word or two is a placeholder, not content.
CARD_SECTION_MIN_CHARS = 20
