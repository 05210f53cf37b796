"""Fill an MLflow registry for bench/mlflow_bridge.py, through MLflow's own SQLAlchemy store.

    .venv-mlflow/bin/python bench/mlflow_build.py --db-uri postgresql://…/mlflow_bench_2000x50 \
        --models 2000 --versions 50 --projects 20 --workers 3

Runs in MLflow's venv (``make mlflow-server-env``), never Signet's, and writes MLflow's tables with
MLflow's own SQLAlchemy store and ORM classes:
- every registered model through ``SqlAlchemyStore.create_registered_model`` (with its tags), the
  very method the server's REST handler calls;
- ``--method store``: every version through ``SqlAlchemyStore.create_model_version``, as the REST
  handler does (about 13 ms a version here: 100,000 take ~20 minutes on 2 cores);
- ``--method bulk`` (the default): the versions of a model as the ``SqlModelVersion`` rows that
  ``create_model_version`` builds (same columns and defaults: number, ``storage_location`` = source,
  stage ``None``, status ``READY``, creation = last update time in ms, strictly increasing as when
  created one after the other), added in one session per model, with the model's
  ``last_updated_time`` moved to its last version's as ``create_model_version`` moves it.
  Model 0 is always built through ``create_model_version``, and the build ends by comparing its rows
  with model 1's, column by column (names, times and sources aside): it fails if they differ.
What the REST route adds is not data: request validation and webhook deliveries (there is no
webhook while building). Models are split between ``--workers`` processes.

The data, for model ``i`` of ``--models`` (names sort in creation order):
- name ``bench-model-<i:05d>``, description ``Benchmark model <i>``;
- 5 tags: ``signet.project`` = ``bench-p<i mod projects:02d>`` (a project the harness creates in
  Signet, so every model is governed, none waits in the intake list), ``team``, ``domain``,
  ``owner``, ``stage``;
- ``--versions`` versions with source ``s3://signet-bench/models/<name>/<v>/model`` (an artifact
  store Signet cannot reach: the pass queues a hash task per new file, which fails fast), no run.
"""

from __future__ import annotations

import argparse
import multiprocessing
import time
from typing import Any

import sqlalchemy
from mlflow.entities.model_registry import RegisteredModelTag
from mlflow.store.model_registry.dbmodels.models import SqlModelVersion, SqlRegisteredModel
from mlflow.store.model_registry.sqlalchemy_store import SqlAlchemyStore
from mlflow.utils.time import get_current_time_millis


def model_name(index: int) -> str:
    return f"bench-model-{index:05d}"


def model_tags(index: int, projects: int) -> list[RegisteredModelTag]:
    return [
        RegisteredModelTag("signet.project", f"bench-p{index % projects:02d}"),
        RegisteredModelTag("team", f"team-{index % 7}"),
        RegisteredModelTag("domain", f"domain-{index % 5}"),
        RegisteredModelTag("owner", f"owner{index % 13}@example.org"),
        RegisteredModelTag("stage", "experimental"),
    ]


def version_source(name: str, version: int) -> str:
    return f"s3://signet-bench/models/{name}/{version}/model"


def _bulk_versions(store: SqlAlchemyStore, name: str, versions: int) -> None:
    """The rows create_model_version would add for versions 1..versions of a new model, in one session."""
    with store.ManagedSessionMaker(read_only=False) as session:
        model = store._get_registered_model(session, name)
        stamp = 0
        rows = []
        for version in range(1, versions + 1):
            stamp = max(get_current_time_millis(), stamp + 1)
            source = version_source(name, version)
            row = SqlModelVersion(
                name=name,
                version=version,
                creation_time=stamp,
                last_updated_time=stamp,
                source=source,
                storage_location=source,
                run_id=None,
                run_link=None,
                description=None,
            )
            row.model_version_tags = []
            rows.append(store._with_workspace_field(row))
        model.last_updated_time = stamp
        session.add_all([model, *rows])


def build(db_uri: str, indices: list[int], versions: int, projects: int, method: str) -> int:
    store = SqlAlchemyStore(db_uri)
    for index in indices:
        name = model_name(index)
        store.create_registered_model(name, tags=model_tags(index, projects), description=f"Benchmark model {index}")
        if method == "store" or index == 0:
            for version in range(1, versions + 1):
                store.create_model_version(name, version_source(name, version))
        else:
            _bulk_versions(store, name, versions)
    return len(indices)


def _rows(engine: sqlalchemy.Engine, table: Any, name: str) -> list[dict[str, Any]]:
    """The rows of one model, without what differs by name and time."""
    with engine.connect() as conn:
        result = conn.execute(sqlalchemy.select(table).where(table.c.name == name).order_by(*table.primary_key))
        rows = [dict(row._mapping) for row in result]
    for row in rows:
        for column in ("name", "creation_time", "last_updated_time", "source", "storage_location", "description"):
            row.pop(column, None)
    return rows


def check(db_uri: str, versions: int) -> None:
    """Model 0 (create_model_version) and model 1 (bulk) must have the same rows, names and times aside."""
    engine = sqlalchemy.create_engine(db_uri)
    for table in (SqlModelVersion.__table__, SqlRegisteredModel.__table__):
        first, second = _rows(engine, table, model_name(0)), _rows(engine, table, model_name(1))
        if first != second:
            raise SystemExit(f"{table.name}: the bulk rows differ from create_model_version's:\n{first}\n{second}")
    with engine.connect() as conn:
        for index in (0, 1):
            name = model_name(index)
            model_time = conn.execute(
                sqlalchemy.text("SELECT last_updated_time FROM registered_models WHERE name = :n"), {"n": name}
            ).scalar()
            times = conn.execute(
                sqlalchemy.text(
                    "SELECT creation_time, last_updated_time, source, storage_location FROM model_versions "
                    "WHERE name = :n ORDER BY version"
                ),
                {"n": name},
            ).all()
            if len(times) != versions or model_time != times[-1][1]:
                raise SystemExit(f"{name}: {len(times)} versions, model updated at {model_time} not {times[-1][1]}")
            if any(c != u or s != loc for c, u, s, loc in times) or [t[0] for t in times] != sorted(
                {t[0] for t in times}
            ):
                raise SystemExit(f"{name}: version times or storage locations are not as create_model_version's")
    engine.dispose()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--db-uri", required=True)
    parser.add_argument("--models", type=int, required=True)
    parser.add_argument("--versions", type=int, required=True)
    parser.add_argument("--projects", type=int, required=True)
    parser.add_argument("--workers", type=int, default=3)
    parser.add_argument("--method", choices=("bulk", "store"), default="bulk")
    args = parser.parse_args()

    started = time.perf_counter()
    SqlAlchemyStore(args.db_uri)  # creates or upgrades MLflow's tables once, before the workers share them
    shares = [list(range(n, args.models, args.workers)) for n in range(args.workers)]
    with multiprocessing.get_context("spawn").Pool(args.workers) as pool:
        done = sum(
            pool.starmap(
                build, [(args.db_uri, share, args.versions, args.projects, args.method) for share in shares if share]
            )
        )
    if args.models >= 2:
        check(args.db_uri, args.versions)
    elapsed = time.perf_counter() - started
    print(f"built {done} models x {args.versions} versions ({args.method}) in {elapsed:.1f} s", flush=True)


if __name__ == "__main__":
    main()
