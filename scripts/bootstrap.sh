#!/usr/bin/env bash
# Makes a fresh clone runnable: system packages (when root), npm dependencies and the build.
# Cheap when nothing changed: npm ci runs only when package-lock.json differs from the last install.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install-system-deps.sh
stamp=node_modules/.skiff-lock-hash
want=$(sha256sum package-lock.json | cut -d' ' -f1)
if [ ! -f "$stamp" ] || [ "$(cat "$stamp")" != "$want" ]; then
  npm ci --no-audit --no-fund
  echo "$want" > "$stamp"
else
  npm run --silent build
fi
