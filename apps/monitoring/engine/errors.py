"""The one error of the monitoring engine: a batch, outcome file or reference it cannot use."""

from __future__ import annotations

from apps.validation.engine.errors import InputError


class BatchError(InputError):
    """A batch, an outcomes file or a reference cannot be used; str(exc) is one sentence for a person.

    A subclass of the validation engine's InputError, so code that refuses a bad dataset refuses a
    bad batch the same way (a 4xx answer, or the batch quarantined with this reason).
    """
