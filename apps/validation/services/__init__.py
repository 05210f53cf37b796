"""Create validation runs, execute them in workers, and record their results; store and schedule suites.

A run is queued in the request and executed by a Celery task after commit. The database decides
who executes it: a worker claims it with a conditional update and a lease; a second delivery of
the same message finds nothing to claim; a heartbeat thread renews the short lease while the worker
lives (apps/validation/heartbeat.py), and a run whose worker died is claimed again once its lease
has expired (the periodic sweep re-sends it). The engine runs in a child process with memory and
CPU limits (apps/validation/sandbox/), so a hostile file cannot take the worker down.

One module per concern: ``runs`` (queue a run), ``leases`` (claims, their renewal and the sweep),
``execution`` (execute a claimed run and record its outcome once), ``suites`` (store a suite) and
``schedules`` (queue the runs of scheduled suites). Callers import this package.
"""

from __future__ import annotations

from apps.validation.services.common import VALIDATE_DENIED
from apps.validation.services.execution import TASK_MARGIN_SECONDS, run_execute
from apps.validation.services.leases import lease_seconds, run_claim, run_lease_renew, runs_sweep
from apps.validation.services.runs import run_create
from apps.validation.services.schedules import scheduled_runs
from apps.validation.services.suites import suite_create

__all__ = [
    "TASK_MARGIN_SECONDS",
    "VALIDATE_DENIED",
    "lease_seconds",
    "run_claim",
    "run_create",
    "run_execute",
    "run_lease_renew",
    "runs_sweep",
    "scheduled_runs",
    "suite_create",
]
