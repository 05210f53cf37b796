"""Type names shared by every app's predicates, selectors and services (for type checkers only).

``Viewer`` is whoever asks, ``request.user``: a person signed in or the anonymous visitor. Services
take the ``User`` itself; predicates and restricted querysets take a ``Viewer`` and answer "no" or
"nothing" for the anonymous one.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, TypeAlias

if TYPE_CHECKING:
    from django.contrib.auth.models import AnonymousUser

    from apps.accounts.models import User

    Viewer: TypeAlias = User | AnonymousUser
