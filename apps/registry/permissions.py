"""One predicate per registry action, used by the services, the pages and the API alike.

Who builds in a project is the project's rule (``apps.projects.permissions.can_build``); each action
of the registry names it here, so a change of rule for one action has one place to go.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from apps.projects import permissions as projects
from apps.projects.models import Project
from apps.registry.models import Dataset, DatasetVersion, ModelVersion, RegisteredModel

if TYPE_CHECKING:
    from apps.core.types import Viewer

BUILD_DENIED = "Only the project's owners and developers register models, versions and data."
LINK_DENIED = "You cannot link a dataset of a project you are not part of."


def can_register_model(user: Viewer, project: Project) -> bool:
    return projects.can_build(user, project)


def can_edit_model(user: Viewer, model: RegisteredModel) -> bool:
    return projects.can_build(user, model.project)


def can_register_version(user: Viewer, model: RegisteredModel) -> bool:
    return projects.can_build(user, model.project)


def can_edit_version(user: Viewer, version: ModelVersion) -> bool:
    return projects.can_build(user, version.model.project)


def can_edit_card(user: Viewer, version: ModelVersion) -> bool:
    return projects.can_build(user, version.model.project)


def can_add_dataset(user: Viewer, project: Project) -> bool:
    return projects.can_build(user, project)


def can_edit_dataset(user: Viewer, dataset: Dataset) -> bool:
    return projects.can_build(user, dataset.project)


def can_add_dataset_version(user: Viewer, dataset: Dataset) -> bool:
    return projects.can_build(user, dataset.project)


def can_link_dataset_version(user: Viewer, dataset_version: DatasetVersion) -> bool:
    """Train on data of a project only if you may see that project."""
    return projects.can_view_project(user, dataset_version.dataset.project)
