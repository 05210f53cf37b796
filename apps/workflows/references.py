"""Deployment references: ``scheme:...`` strings a pipeline knows a model by, resolved to a version.

A pipeline often knows what it deploys by another registry's name for it (MLflow's
``models:/credit-scoring@champion`` or ``models:/credit-scoring/3``), not by Signet's model name and
version number. The deployment gate (``GET /api/v1/gate/?reference=...``) asks ``resolve`` which
Signet version that is, and which artifact digest the other registry holds for it.

The contract for a resolver, which a higher app registers in its ``AppConfig.ready``
(``references.register("models", resolve_mlflow_model)``; workflows never imports it):

- It is called as ``resolver(viewer, reference)`` with the whole reference, scheme included, as
  the pipeline sent it (stripped, at most ``MAX_REFERENCE_LENGTH`` characters), and a ``Viewer``
  (the authenticated user or service account of the request).
- It returns ``Resolved(version, artifact_sha256, label)``: the ``ModelVersion`` the reference
  names, looked up through what ``viewer`` may see (``registry.selectors.versions_visible_to``);
  the SHA-256 of the artifact the other registry holds for it as 64 lowercase hexadecimal
  characters, or None when it does not know one (then the gate compares only a digest the pipeline
  gives); a short label for the answer ("models:/credit-scoring@champion -> version 3").
- It raises ``ReferenceNotFound(message)`` when the reference is well formed but names nothing the
  viewer can see (the gate answers "not allowed" with the message, as it does for an unknown model
  name), and ``UnresolvedReference(message)`` when it is malformed or cannot be resolved now (the
  other registry does not answer): the gate answers 400 with the message. A message is a sentence
  a pipeline log can show; it never carries a secret. Any other exception is a bug of the resolver.
- It only reads: no writes, no audit events (the gate is a read).

``resolve`` checks once more that the version is one the viewer may see and that the digest is well
formed, so a careless resolver cannot widen what a caller sees.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, TypeAlias

from apps.registry.models import ModelVersion
from apps.registry.selectors import versions_visible_to

if TYPE_CHECKING:
    from apps.core.types import Viewer

MAX_REFERENCE_LENGTH = 500
SCHEME = re.compile(r"[a-z][a-z0-9+.-]{0,30}")
SHA256 = re.compile(r"[0-9a-f]{64}")


@dataclass(frozen=True)
class Resolved:
    """What a reference names: the version, the artifact digest its registry holds (or None), a label."""

    version: ModelVersion
    artifact_sha256: str | None
    label: str


class UnresolvedReference(Exception):
    """The reference is malformed or cannot be resolved now; ``message`` says why, for a pipeline log."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class ReferenceNotFound(UnresolvedReference):
    """The reference is well formed but names nothing the viewer can see."""


Resolver: TypeAlias = "Callable[[Viewer, str], Resolved]"

_resolvers: dict[str, Resolver] = {}


def register(scheme: str, resolver: Resolver) -> None:
    """Let ``resolver`` resolve the references of ``scheme`` ("models" for ``models:/...``).

    Registering the same resolver again does nothing (``ready`` may run twice); another resolver for
    a scheme already taken fails loudly, as two page sections of one key do.
    """
    if not SCHEME.fullmatch(scheme):
        raise ValueError(f"a reference scheme is lowercase letters, digits, +, . or -: {scheme!r}")
    if _resolvers.get(scheme, resolver) is not resolver:
        raise ValueError(f"the reference scheme {scheme!r} already has a resolver: {_resolvers[scheme]!r}")
    _resolvers[scheme] = resolver


def unregister(scheme: str) -> None:
    """Forget the resolver of ``scheme`` (tests that registered one of their own)."""
    _resolvers.pop(scheme, None)


def schemes() -> list[str]:
    """The schemes that have a resolver, sorted."""
    return sorted(_resolvers)


def resolve(viewer: Viewer, reference: str) -> Resolved:
    """The version ``reference`` names for ``viewer``, through the resolver of its scheme.

    Raises UnresolvedReference (malformed, no resolver for its scheme, not resolvable now) and
    ReferenceNotFound (names nothing ``viewer`` can see).
    """
    reference = reference.strip()
    if not reference or len(reference) > MAX_REFERENCE_LENGTH or "\x00" in reference:
        raise UnresolvedReference(
            f"Give a reference of 1 to {MAX_REFERENCE_LENGTH} characters, such as models:/name@alias."
        )
    scheme, colon, _rest = reference.partition(":")
    if not colon or not SCHEME.fullmatch(scheme):
        raise UnresolvedReference("Give a reference as scheme:path, such as models:/name@alias.")
    resolver = _resolvers.get(scheme)
    if resolver is None:
        known = ", ".join(f"{name}:" for name in schemes()) or "none"
        raise UnresolvedReference(f"No resolver for {scheme}: references here (known schemes: {known}).")
    resolved = resolver(viewer, reference)
    if not versions_visible_to(viewer).filter(pk=resolved.version.pk).exists():
        raise ReferenceNotFound(f"{reference[:100]} names no model version that you can see.")
    digest = resolved.artifact_sha256
    if digest is not None and not SHA256.fullmatch(digest):
        raise UnresolvedReference(
            f"The registry of {scheme}: references gave an artifact digest that is not a SHA-256."
        )
    return resolved
