"""The shadow-deployment guard: protected aliases must point at versions the gate allows.

Owned by the alias-guard work of issue #12 (to be written). Contract:

- ``aliases_check(mlflow_model) -> None``: for each protected alias of the connection, ask the gate
  for the alias's environment; if refused, raise the unapproved-promotion finding and, where the
  connection says so, restore the alias (last approved version, or remove it).
- ``alias_states(mlflow_model) -> list[AliasState]``: which aliases point where and whether each is
  backed by a current approval, for the model page and the portfolio.
"""

from __future__ import annotations
