from __future__ import annotations

from django.apps import AppConfig

from apps.core import panels
from apps.projects.signals import kpi_measured


class MonitoringConfig(AppConfig):
    name = "apps.monitoring"
    label = "monitoring"
    verbose_name = "Monitoring of deployed versions"

    def ready(self) -> None:
        # The gate refuses a version whose gate-blocking monitor breaches, and the version page lists
        # its monitors, without importing this app; projects tells monitoring of each KPI value, which
        # it links to the deployment in production. The project page shows its monitors' tile and which
        # version was in production when each KPI value was measured.
        from apps.monitoring.receivers import link_kpi_actual  # noqa: PLC0415 - imports models: once apps are loaded
        from apps.monitoring.selectors import gate_refusals, monitoring_panel  # noqa: PLC0415 - as above
        from apps.monitoring.summaries import kpi_versions, project_monitors  # noqa: PLC0415 - as above
        from apps.workflows.gate import contribute_refusals  # noqa: PLC0415 - as above

        contribute_refusals(gate_refusals)
        panels.contribute("registry.version", monitoring_panel)
        panels.contribute("projects.project", project_monitors)
        panels.contribute("projects.kpis", kpi_versions)
        kpi_measured.connect(link_kpi_actual, dispatch_uid="monitoring.link_kpi_actual")
