#!/usr/bin/env bash
# The README's second command: installs everything the tests need (npm packages, the Debian
# packages of the real peers), builds, checks (lint, layers, generated docs) and runs every test.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup-apt.sh
npm ci --no-audit --no-fund
npm test
