#!/usr/bin/env bash
# Install and run the demo hall: the example county hall on SQLite, on this machine.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/setup.sh"
setup_python all
setup_assets
exec .venv/bin/onedoor demo "$@"
