"""A real MLflow server and the unmodified MLflow client, for the MLflow bridge's tests (issue #12).

``mlflow`` is one server per pytest-xdist worker for the whole session (on sqlite; it starts in 6 s
on an idle machine, in half a minute on a loaded one); ``mlflow_client`` points the ``mlflow``
module and an ``MlflowClient`` at it for one test; ``unique_name`` is a registered-model name no
other test of the session uses, since tests share the server; ``register_version`` trains, logs
and registers a tiny model the way a data scientist would.
A test that stops or kills a server, to play an outage, starts its own with
``tests.mlflow_server.mlflow_server(tmp_path)`` and points the client at it with ``use_server``.

No xdist group: MLflow servers share a machine without trouble (each has a free port, a folder and a
store of its own), and one per worker keeps the bridge's tests parallel for one start a worker,
where a group would run them all one after another on one worker. Nothing the tests do to the shared
server reaches another worker's server. Within a worker tests run one at a time; they keep apart by
``unique_name``, and by ``mlflow_client`` deleting the webhooks a test created: a webhook fires for
every model on its server, so one left behind would send later tests' events to a receiver that is
gone (retried for seconds), or to whichever later receiver got its port.
"""

from __future__ import annotations

import re
import uuid
import warnings
from collections.abc import Iterator
from importlib.metadata import version

import mlflow as mlflow_lib  # ``mlflow`` is the server fixture's name in tests (and below)
import numpy as np
import pandas as pd  # type: ignore[import-untyped, unused-ignore]
import pytest
from mlflow import sklearn as mlflow_sklearn
from mlflow.data.pandas_dataset import from_pandas
from mlflow.entities.model_registry import ModelVersion
from mlflow.tracking import MlflowClient
from mlflow.tracking._model_registry import utils as registry_uri_state
from mlflow.tracking._tracking_service import utils as tracking_uri_state
from sklearn.linear_model import LogisticRegression

from tests.mlflow_server import MlflowServer, mlflow_server

GIT_COMMIT_TAG = "mlflow.source.git.commit"  # the run tag MLflow itself fills from the working tree's git


@pytest.fixture(name="mlflow", scope="session")
def mlflow_session_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[MlflowServer]:
    """One MLflow server for this worker's session, on sqlite in a folder of the session's."""
    with mlflow_server(tmp_path_factory.mktemp("mlflow")) as server:
        yield server


@pytest.fixture
def mlflow_client(mlflow: MlflowServer, monkeypatch: pytest.MonkeyPatch) -> Iterator[MlflowClient]:
    """An unmodified ``MlflowClient`` of the session's server, which the ``mlflow`` module also uses for this test.

    Afterwards the module points where it did before, and the webhooks the test created are deleted.
    """
    if not mlflow.running:  # a test stopped the shared server after all: start it again for the next
        mlflow.start()
    client = use_server(mlflow, monkeypatch)
    existing = {webhook.webhook_id for webhook in client.list_webhooks(max_results=1000)}
    yield client
    if mlflow.running:
        for webhook in client.list_webhooks(max_results=1000):
            if webhook.webhook_id not in existing:
                client.delete_webhook(webhook.webhook_id)


def use_server(server: MlflowServer, monkeypatch: pytest.MonkeyPatch) -> MlflowClient:
    """Point the ``mlflow`` module at ``server`` until the test ends, and return a client of it.

    For a test's own server (``mlflow_client`` does it for the session's). ``mlflow.set_tracking_uri``
    and ``set_registry_uri`` set module globals and, for subprocesses, environment variables:
    monkeypatch puts all four back.
    """
    monkeypatch.setattr(tracking_uri_state, "_tracking_uri", tracking_uri_state._tracking_uri)
    monkeypatch.setattr(registry_uri_state, "_registry_uri", registry_uri_state._registry_uri)
    monkeypatch.setenv("MLFLOW_TRACKING_URI", server.url)
    monkeypatch.setenv("MLFLOW_REGISTRY_URI", server.url)
    mlflow_lib.set_tracking_uri(server.url)
    mlflow_lib.set_registry_uri(server.url)
    return MlflowClient(tracking_uri=server.url, registry_uri=server.url)


@pytest.fixture
def unique_name(request: pytest.FixtureRequest) -> str:
    """A name of this test's alone: the test's name, made URI-safe, and a random suffix.

    For a registered model or a webhook (whose names are under 63 characters of letters, digits, ``._-``).
    """
    readable = re.sub(r"[^A-Za-z0-9_-]+", "-", request.node.name).strip("-")[:40]
    return f"{readable}-{uuid.uuid4().hex[:8]}"


def training_frame(rows: int = 200, seed: int = 0) -> pd.DataFrame:
    """Generated data for a binary classifier: four numeric features and a label that depends on them."""
    generator = np.random.default_rng(seed)
    features = generator.normal(size=(rows, 4))
    label = (features @ np.array([1.5, -2.0, 0.5, 0.0]) + generator.normal(scale=0.5, size=rows) > 0).astype(int)
    frame = pd.DataFrame(features, columns=["income", "debt", "age", "noise"])
    frame["default"] = label
    return frame


def register_version(
    client: MlflowClient,
    name: str,
    *,
    params: dict[str, str | int | float] | None = None,
    metrics: dict[str, float] | None = None,
    git_commit: str | None = None,
    dataset: str | None = None,
) -> ModelVersion:
    """Train a tiny scikit-learn model, log it in a run and register it as a new version of ``name``.

    The run gets ``params``, ``metrics``, the git commit tag (``git_commit``; otherwise whatever
    MLflow reads from the working tree) and, when ``dataset`` names one, the training frame as a
    dataset input (context "training"). The ``mlflow`` module must point at ``client``'s server
    (the ``mlflow_client`` fixture does). Returns the registered version as the server reads it.
    """
    if mlflow_lib.get_tracking_uri() != client.tracking_uri:
        raise RuntimeError("the mlflow module points elsewhere than the client: use the mlflow_client fixture")
    frame = training_frame()
    model = LogisticRegression().fit(frame.drop(columns="default"), frame["default"])
    with mlflow_lib.start_run() as run:
        if params:
            mlflow_lib.log_params(params)
        if metrics:
            mlflow_lib.log_metrics(metrics)
        if git_commit is not None:
            mlflow_lib.set_tag(GIT_COMMIT_TAG, git_commit)
        if dataset is not None:
            with warnings.catch_warnings():  # that an integer column cannot hold a missing value: the label
                warnings.filterwarnings("ignore", "Hint: Inferred schema contains integer", UserWarning)
                mlflow_lib.log_input(from_pandas(frame, name=dataset, targets="default"), context="training")
        # skops, the default serialisation of scikit-learn models now, is not in mlflow-skinny. Stated
        # requirements spare the 4 s MLflow takes to infer them (it loads the model in a subprocess).
        mlflow_sklearn.log_model(
            model,
            name="model",
            serialization_format="cloudpickle",
            pip_requirements=[f"{package}=={version(package)}" for package in ("scikit-learn", "cloudpickle")],
        )
    registered = mlflow_lib.register_model(f"runs:/{run.info.run_id}/model", name)
    return client.get_model_version(name, registered.version)
