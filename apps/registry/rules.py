"""The registry's field rules, read by its forms (pages) and its serializers (API) alike."""

from __future__ import annotations

MODEL_NAME_MAX_CHARS = 100  # a slug: pipelines ask the gate about a model by this name
DESCRIPTION_MAX_CHARS = 5000
TAG_MAX_CHARS = 50
MAX_TAGS = 20
TAG_TEXT_MAX_CHARS = 300  # the page's comma-separated field holding them
URI_MAX_CHARS = 500
SHA256_CHARS = 64
SHA256_PATTERN = r"^[0-9a-fA-F]{64}$"
SHA256_INVALID = "A SHA-256 is 64 hexadecimal characters."
FRAMEWORK_MAX_CHARS = 60
SOURCE_RUN_ID_MAX_CHARS = 200
METRICS_TEXT_MAX_CHARS = 20_000
CARD_SECTION_MAX_CHARS = 20_000
DATASET_NAME_MAX_CHARS = 120
DATASET_SOURCE_MAX_CHARS = 200
