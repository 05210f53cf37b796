#!/usr/bin/env bash
# Create bench/.venv-evidently: Evidently 0.7.23 with pandas 2.3.3 (Evidently needs pandas<3; the project's
# own venv has pandas 3.1.1), every package pinned in bench/requirements-evidently.txt.
# The Signet and fairlearn contenders use the project's venv (.venv, `make install` or pip install -e '.[dev]').
#
#   bash bench/setup.sh            # idempotent: re-running checks the pins and installs nothing new
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
python="${PYTHON:-python3}"
venv="$here/.venv-evidently"

"$python" -c 'import sys; assert sys.version_info >= (3, 11), sys.version' # as the project
if [ ! -x "$venv/bin/python" ]; then
    "$python" -m venv "$venv"
fi
"$venv/bin/python" -m pip install --quiet --disable-pip-version-check -r "$here/requirements-evidently.txt"
"$venv/bin/python" - <<'PY'
from importlib.metadata import version

import evidently  # noqa: F401  (imports: the environment works)
from evidently import BinaryClassification, DataDefinition, Dataset, Report  # noqa: F401
from evidently.presets import ClassificationPreset, DataDriftPreset  # noqa: F401

print("bench/.venv-evidently:", ", ".join(f"{n} {version(n)}" for n in ("evidently", "pandas", "numpy", "pyarrow")))
PY
if [ ! -x "$here/../.venv/bin/python" ]; then
    echo "note: the project's venv ($here/../.venv) is missing: the Signet and fairlearn contenders need it" >&2
fi
