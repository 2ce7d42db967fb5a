# Sourced by the other scripts: the project's venv and Node first on PATH, Reflex offline-friendly.
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
export PATH="$ROOT/.venv/bin:$PATH"
export REFLEX_USE_NPM=1                       # npm + Node 24 from PyPI; Reflex's bun download needs GitHub
export NPM_CONFIG_REGISTRY="${NPM_CONFIG_REGISTRY:-https://registry.npmjs.org}"
export REFLEX_TELEMETRY_ENABLED=false
export REFLEX_CHECK_LATEST_VERSION=false
export PYRIGHT_PYTHON_IGNORE_WARNINGS=1       # pinned pyright: no PyPI look-up for a newer one
export PYTHONDONTWRITEBYTECODE=1
cd "$ROOT"
