from __future__ import annotations

from tests.workflows.conftest import flow, high_flow

__all__ = ["flow", "high_flow"]
