#!/usr/bin/env bash
# Install and run every check: lint, the import rules of DESIGN.md, and the whole test suite.
# PostgreSQL tests run when ONEDOOR_TEST_POSTGRES_URL is set (.ci/run sets it).
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/setup.sh"
setup_python all,test
setup_assets
# The pages are tested in Debian's chromium through Playwright (no browser download).
need_apt chromium fonts-wqy-microhei
echo "== ruff"
.venv/bin/ruff check .
echo "== types (mypy)"
.venv/bin/mypy
echo "== import rules (import-linter)"
.venv/bin/lint-imports --no-cache
echo "== pytest"
exec .venv/bin/python -m pytest -p no:cacheprovider "$@"
