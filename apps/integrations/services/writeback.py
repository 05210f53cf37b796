"""Write-back: the signet.* tags Signet sets on MLflow versions so MLflow users see the governance state.

Owned by the write-back work of issue #12 (to be written). Contract:

- ``write_back(mlflow_version) -> bool``: set ``signet.status``, ``signet.review`` and
  ``signet.approved_digest`` where they differ from what was last written; never touches files.
"""

from __future__ import annotations
