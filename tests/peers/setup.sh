#!/usr/bin/env bash
# Installs the real-peer interop tier (anvil Tempo chain, mppx, pympp) for tests/interop.
# Idempotent: safe to re-run; CI calls it before `pytest -m peers tests/interop`.
#   - npm packages from the committed lockfile into tests/peers/node_modules (git-ignored)
#   - a SEPARATE venv <repo>/.venv-peers with pympp + starlette + uvicorn (never the project venv:
#     pympp's [tempo] extra pulls web3 and exact pins that must not leak into grok_mpp's tests)
# Needs: node + npm, python3 with the venv module. Env: PEERS_VENV overrides the venv path,
# PYTHON the interpreter used to create it.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
repo="$(cd "$here/../.." && pwd)"
venv="${PEERS_VENV:-$repo/.venv-peers}"
python="${PYTHON:-python3}"

command -v npm >/dev/null || { echo "setup.sh: npm not found (install Node.js >= 20)" >&2; exit 1; }

# npm: `ci` reproduces package-lock.json exactly; skip when node_modules already matches it.
stamp="$here/node_modules/.grok-mpp-lock.sha256"
lock_sum="$(sha256sum "$here/package-lock.json" | cut -d' ' -f1)"
if [[ ! -x "$here/node_modules/.bin/anvil" || ! -f "$stamp" || "$(cat "$stamp")" != "$lock_sum" ]]; then
  npm ci --prefix "$here" --no-audit --no-fund
  echo "$lock_sum" > "$stamp"
fi
"$here/node_modules/.bin/anvil" --version >/dev/null

# Python peers: rebuild the venv if it is missing or broken; pip is a no-op when satisfied.
if ! "$venv/bin/python" -c "import sys" >/dev/null 2>&1; then
  rm -rf "$venv"
  "$python" -m venv "$venv"
fi
"$venv/bin/python" -m pip install --disable-pip-version-check -q -r "$here/requirements.txt"
"$venv/bin/python" -c "import mpp.methods.tempo.server, starlette, uvicorn"

echo "peers ready: anvil $("$here/node_modules/.bin/anvil" --version | head -1 | awk '{print $3}'), venv $venv"
